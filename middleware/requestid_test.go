package middleware_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/catalog"
	"github.com/faultline-go/faultline/middleware"
	"github.com/faultline-go/faultline/problem"
)

// requireUUIDv4 fails unless id is a version 4 UUID in canonical form.
func requireUUIDv4(t testing.TB, id string) {
	t.Helper()
	u, err := uuid.Parse(id)
	require.NoError(t, err, "uuid.Parse(%q)", id)
	require.Equal(t, uuid.Version(4), u.Version(), "uuid.Parse(%q).Version()", id)
	require.Equal(t, uuid.RFC4122, u.Variant(), "uuid.Parse(%q).Variant()", id)
	require.Equal(t, u.String(), id, "request id must be the canonical lower-case form")
}

// idRecorder is a handler that records the request id it sees.
type idRecorder struct{ got string }

func (h *idRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.got = middleware.RequestIDFromContext(r.Context())
	okHandler(w, r)
}

func TestRequestIDReusesValidID(t *testing.T) {
	tests := []struct {
		name string
		id   string
	}{
		{"one char", "a"},
		{"uuid", "0b7d3c8e-6c43-4e1b-9d1f-2f4b8c2a1e90"},
		{"all allowed punctuation", "req.1_2:3-4"},
		{"mixed case and digits", "AbC123xyZ"},
		{"128 chars", strings.Repeat("x", 128)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &idRecorder{}
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.Header.Set(middleware.HeaderRequestID, tt.id)
			rec := httptest.NewRecorder()
			middleware.RequestID(h).ServeHTTP(rec, req)

			assert.Equal(t, tt.id, h.got, "RequestIDFromContext(ctx) = %q, want %q", h.got, tt.id)
			assert.Equal(t, tt.id, rec.Header().Get(middleware.HeaderRequestID), "X-Request-Id response header")
			assert.Equal(t, http.StatusOK, rec.Code)
			assert.Equal(t, `{"ok":true}`, rec.Body.String())
		})
	}
}

func TestRequestIDReplacesInvalidID(t *testing.T) {
	tests := []struct {
		name   string
		header []string // nil: no header at all
	}{
		{"absent", nil},
		{"empty", []string{""}},
		{"129 chars", []string{strings.Repeat("x", 129)}},
		{"space", []string{"has space"}},
		{"leading space", []string{" abc"}},
		{"unicode", []string{"héllo"}},
		{"script", []string{"<script>alert(1)</script>"}},
		{"crlf", []string{"abc\r\nX-Injected: 1"}},
		{"lf", []string{"abc\n"}},
		{"slash", []string{"a/b"}},
		{"quote", []string{`a"b`}},
		{"nul", []string{"a\x00b"}},
		{"first value invalid", []string{"bad id", "good"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &idRecorder{}
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			if tt.header != nil {
				req.Header[middleware.HeaderRequestID] = tt.header
			}
			rec := httptest.NewRecorder()
			middleware.RequestID(h).ServeHTTP(rec, req)

			requireUUIDv4(t, h.got)
			if len(tt.header) > 0 {
				assert.NotEqual(t, tt.header[0], h.got)
			}
			assert.Equal(t, h.got, rec.Header().Get(middleware.HeaderRequestID),
				"X-Request-Id response header, want the context's id")
			assert.Len(t, rec.Header().Values(middleware.HeaderRequestID), 1, "X-Request-Id values")
		})
	}
}

func TestRequestIDGeneratesDistinctIDs(t *testing.T) {
	h := middleware.RequestID(okHandler)
	seen := make(map[string]bool)
	for range 1000 {
		id := serve(h, http.MethodGet, "/").Header().Get(middleware.HeaderRequestID)
		require.False(t, seen[id], "id %q generated twice", id)
		seen[id] = true
	}
}

func TestRequestIDNestedKeepsFirstID(t *testing.T) {
	var inner, outer string
	h := middleware.RequestID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		outer = middleware.RequestIDFromContext(r.Context())
		middleware.RequestID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			inner = middleware.RequestIDFromContext(r.Context())
		})).ServeHTTP(w, r)
	}))
	rec := serve(h, http.MethodGet, "/")
	requireUUIDv4(t, outer)
	assert.Equal(t, outer, inner, "RequestIDFromContext in the inner RequestID")
	assert.Equal(t, outer, rec.Header().Get(middleware.HeaderRequestID))
}

func TestRequestIDFromContextEmpty(t *testing.T) {
	got := middleware.RequestIDFromContext(context.Background())
	assert.Empty(t, got, "RequestIDFromContext(context.Background()) = %q, want \"\"", got)
	// A context with a renderer but no RequestID middleware has no id yet.
	ctx := problem.NewContext(context.Background(), problem.MustRenderer(problem.Config{}))
	got = middleware.RequestIDFromContext(ctx)
	assert.Empty(t, got, "RequestIDFromContext(problem.NewContext(...)) = %q, want \"\"", got)
}

// TestRequestIDOnErrorResponses checks that the id in the X-Request-Id header
// of an error response is the request's id and, where the envelope carries
// one, the body's request_id.
func TestRequestIDOnErrorResponses(t *testing.T) {
	failing := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		problem.Write(w, r, problem.New(catalog.NotFound, "No such order."))
	})
	for _, env := range envelopes {
		t.Run(env, func(t *testing.T) {
			t.Run("incoming id", func(t *testing.T) {
				rd, _ := newRenderer(t, env)
				h := middleware.RequestID(middleware.Recover(rd)(failing))
				req := httptest.NewRequest(http.MethodGet, "/v1/orders/1", nil)
				req.Header.Set(middleware.HeaderRequestID, "client-id.42")
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)

				requireError(t, rd, env, rec, http.StatusNotFound, catalog.NotFound)
				assert.Equal(t, "client-id.42", rec.Header().Get(middleware.HeaderRequestID))
				assert.Len(t, rec.Header().Values(middleware.HeaderRequestID), 1, "X-Request-Id values")
			})
			t.Run("generated id", func(t *testing.T) {
				rd, _ := newRenderer(t, env)
				var ctxID string
				h := middleware.RequestID(middleware.Recover(rd)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					ctxID = middleware.RequestIDFromContext(r.Context())
					failing(w, r)
				})))
				rec := serve(h, http.MethodGet, "/v1/orders/1")

				requireError(t, rd, env, rec, http.StatusNotFound, catalog.NotFound)
				requireUUIDv4(t, ctxID)
				assert.Equal(t, ctxID, rec.Header().Get(middleware.HeaderRequestID))
			})
			t.Run("without RequestID", func(t *testing.T) {
				rd, logs := newRenderer(t, env)
				h := middleware.Recover(rd)(failing)
				rec := serve(h, http.MethodGet, "/v1/orders/1")

				requireError(t, rd, env, rec, http.StatusNotFound, catalog.NotFound)
				id := rec.Header().Get(middleware.HeaderRequestID)
				requireUUIDv4(t, id)
				assert.Equal(t, id, logs.only(t)["request_id"], "logged request_id")
			})
		})
	}
}

func TestRequestIDRendererWithoutMiddleware(t *testing.T) {
	// No faultline middleware at all: the default renderer still names the
	// response with an id.
	rec := httptest.NewRecorder()
	problem.Write(rec, httptest.NewRequest(http.MethodGet, "/x", nil), problem.New(catalog.NotFound, ""))
	require.Equal(t, http.StatusNotFound, rec.Code)
	requireUUIDv4(t, rec.Header().Get(middleware.HeaderRequestID))
}
