package middleware_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/catalog"
	"github.com/faultline-go/faultline/middleware"
	"github.com/faultline-go/faultline/problem"
)

// mark is middleware that appends name to *order when it runs.
func mark(name string, order *[]string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			*order = append(*order, name)
			next.ServeHTTP(w, r)
		})
	}
}

func TestStackOrder(t *testing.T) {
	rd, _ := newRenderer(t, problem.EnvelopeGoogle)
	var order []string
	var sawID string
	var sawRenderer *problem.Renderer
	h := middleware.Stack(rd, mark("auth", &order), nil, mark("limit", &order))(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			order = append(order, "handler")
			sawID = middleware.RequestIDFromContext(r.Context())
			sawRenderer = problem.FromContext(r.Context())
		}))
	rec := serve(h, http.MethodGet, "/x")
	assert.Equal(t, []string{"auth", "limit", "handler"}, order, "Stack(rd, auth, nil, limit) order")
	assert.Equal(t, rec.Header().Get(middleware.HeaderRequestID), sawID, "request id seen inside Stack")
	assert.NotEmpty(t, sawID, "request id seen inside Stack")
	assert.Same(t, rd, sawRenderer, "renderer seen inside Stack")
}

func TestStackAnswersThroughRenderer(t *testing.T) {
	// A failing inner piece (an authenticator) and a panicking handler
	// both answer in the stack's envelope and log to its logger.
	keys, err := middleware.NewStaticKeys(middleware.KeyPair{Key: "k", Secret: "s"})
	require.NoError(t, err)
	for _, env := range envelopes {
		t.Run(env, func(t *testing.T) {
			rd, logs := newRenderer(t, env)
			h := middleware.Stack(rd, middleware.KeyAuth(keys))(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
				panic("boom")
			}))
			rec := serve(h, http.MethodGet, "/x")
			requireError(t, rd, env, rec, http.StatusUnauthorized, catalog.MissingAuthorization)

			req := httptest.NewRequest(http.MethodGet, "/x", nil)
			req.SetBasicAuth("k", "s")
			rec = httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			requireError(t, rd, env, rec, http.StatusInternalServerError, catalog.Internal)
			assert.Len(t, logs.records(t), 2, "records in the stack's logger")
		})
	}
}

func TestStackRecordsStartForObserver(t *testing.T) {
	var mu sync.Mutex // guards evs
	var evs []problem.ErrorEvent
	rd := problem.MustRenderer(problem.Config{
		Logger: slog.New(slog.DiscardHandler),
		Observer: func(_ context.Context, ev problem.ErrorEvent) {
			mu.Lock()
			defer mu.Unlock()
			evs = append(evs, ev)
		},
	})
	var started bool
	h := middleware.Stack(rd)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, started = problem.RequestStart(r.Context())
		middleware.NotFound(w, r)
	}))
	serve(h, http.MethodGet, "/x")
	assert.True(t, started, "RequestStart inside Stack with an observer")
	require.Len(t, evs, 1, "events")
	assert.Positive(t, evs[0].Latency, "Latency of an error under Stack")

	plain, _ := newRenderer(t, problem.EnvelopeFlat)
	middleware.Stack(plain)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, started = problem.RequestStart(r.Context())
	})).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/x", nil))
	assert.False(t, started, "RequestStart inside Stack without an observer")
}

func TestMisorderedStackWarnsOnce(t *testing.T) {
	// A piece mounted above the stack answers without the renderer: the
	// default one answers, and slog.Default hears about it once per
	// piece, however many requests it answers. The warnings are kept per
	// call site for the life of the process, so this test uses call sites
	// of its own.
	var warnings logBuffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&warnings, &slog.HandlerOptions{Level: slog.LevelWarn})))
	t.Cleanup(func() { slog.SetDefault(prev) })

	deny := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			problem.Write(w, r, problem.New(catalog.PermissionDenied, ""))
		})
	}
	block := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			problem.Write(w, r, problem.New(catalog.Unavailable, ""))
		})
	}
	rd, logs := newRenderer(t, problem.EnvelopeGoogle)
	denied := deny(middleware.Stack(rd)(http.NotFoundHandler()))
	blocked := block(middleware.Stack(rd)(http.NotFoundHandler()))
	for i := 0; i < 3; i++ {
		rec := serve(denied, http.MethodGet, "/v1/x")
		assert.Equal(t, problem.ContentTypeProblem, rec.Header().Get("Content-Type"), "Content-Type of the default renderer")
		serve(blocked, http.MethodGet, "/v1/y")
	}
	assert.Empty(t, logs.records(t), "records in the stack's logger")
	var found []map[string]any
	for _, rec := range warnings.records(t) {
		if strings.Contains(rec["msg"].(string), "no renderer") {
			found = append(found, rec)
		}
	}
	require.Len(t, found, 2, "no-renderer warnings for 3 requests to each of 2 pieces; log:\n%s", warnings.String())
	for i, path := range []string{"/v1/x", "/v1/y"} {
		assert.Equal(t, "WARN", found[i]["level"], "level")
		assert.Contains(t, found[i]["caller"], "middleware_test.TestMisorderedStackWarnsOnce", "caller")
		assert.Equal(t, path, found[i]["path"], "path")
	}
}

func TestKeyAuthAboveStack(t *testing.T) {
	// The misorder that motivated Stack: the 401 comes out in the default
	// problem envelope, not the stack's google one.
	keys, err := middleware.NewStaticKeys(middleware.KeyPair{Key: "k", Secret: "s"})
	require.NoError(t, err)
	rd, _ := newRenderer(t, problem.EnvelopeGoogle)
	rec := serve(middleware.KeyAuth(keys)(middleware.Stack(rd)(http.NotFoundHandler())), http.MethodGet, "/x")
	assert.Equal(t, http.StatusUnauthorized, rec.Code, "status")
	assert.Equal(t, problem.ContentTypeProblem, rec.Header().Get("Content-Type"), "Content-Type above the stack")
	rec = serve(middleware.Stack(rd, middleware.KeyAuth(keys))(http.NotFoundHandler()), http.MethodGet, "/x")
	assert.Equal(t, problem.ContentTypeJSON, rec.Header().Get("Content-Type"), "Content-Type inside the stack")
}

func TestStackNilRendererKeepsTheOuterOne(t *testing.T) {
	outer, logs := newRenderer(t, problem.EnvelopeFlat)
	h := middleware.Stack(outer)(middleware.Stack(nil)(http.HandlerFunc(middleware.NotFound)))
	rec := serve(h, http.MethodGet, "/x")
	requireError(t, outer, problem.EnvelopeFlat, rec, http.StatusNotFound, catalog.NotFound)
	assert.Len(t, logs.records(t), 1, "records in the outer stack's logger")
}
