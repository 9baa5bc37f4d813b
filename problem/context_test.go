package problem_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/middleware"
	"github.com/faultline-go/faultline/problem"
)

func TestFromContext(t *testing.T) {
	assert.Nil(t, problem.FromContext(context.Background()), "FromContext(Background)")

	rd, _ := envRenderer(t, problem.EnvelopeFlat)
	ctx := problem.NewContext(context.Background(), rd)
	assert.Same(t, rd, problem.FromContext(ctx), "FromContext(NewContext(rd))")

	other, _ := envRenderer(t, problem.EnvelopeGoogle)
	ctx = problem.NewContext(ctx, other)
	assert.Same(t, other, problem.FromContext(ctx), "FromContext after a second NewContext")
}

func TestNewContextLeavesParentUnchanged(t *testing.T) {
	flat, _ := envRenderer(t, problem.EnvelopeFlat)
	google, _ := envRenderer(t, problem.EnvelopeGoogle)
	tests := []struct {
		name   string
		parent func() context.Context
		want   *problem.Renderer // the parent's renderer, before and after
	}{
		{"no state", context.Background, nil},
		{"renderer", func() context.Context { return problem.NewContext(context.Background(), flat) }, flat},
		{"request state from middleware", func() context.Context {
			var ctx context.Context
			req := httptest.NewRequest(http.MethodGet, "/x", nil)
			req.Header.Set(problem.HeaderRequestID, testRequestID)
			middleware.RequestID(middleware.Recover(flat)(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
				ctx = r.Context()
			}))).ServeHTTP(httptest.NewRecorder(), req)
			return ctx
		}, flat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent := tt.parent()
			id := middleware.RequestIDFromContext(parent)
			child := problem.NewContext(parent, google)

			assert.NotEqual(t, parent, child, "NewContext(parent, rd) returned parent")
			assert.Same(t, google, problem.FromContext(child), "FromContext(child)")
			assert.Equal(t, tt.want, problem.FromContext(parent), "FromContext(parent) after NewContext(parent, rd)")
			assert.Equal(t, id, middleware.RequestIDFromContext(parent), "request id of parent")
			assert.Equal(t, id, middleware.RequestIDFromContext(child), "request id of child")
		})
	}
}

func TestNewContextRequestKeepsRecoverWriter(t *testing.T) {
	// A handler behind Recover switches renderer for one error: the
	// response goes through the new renderer, and a panic afterwards is
	// still answered by Recover's.
	flat, _ := envRenderer(t, problem.EnvelopeFlat)
	google, _ := envRenderer(t, problem.EnvelopeGoogle)
	rec := httptest.NewRecorder()
	middleware.Recover(flat)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		problem.Write(w, r.WithContext(problem.NewContext(r.Context(), google)), notFound())
		assert.Same(t, flat, problem.FromContext(r.Context()), "FromContext(r) after NewContext")
	})).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/x", nil))
	assert.Equal(t, http.StatusNotFound, rec.Code, "status")
	assert.Contains(t, rec.Body.String(), `"status":"NOT_FOUND"`, "google body")
}

func TestWriteUsesContextRenderer(t *testing.T) {
	rd, logs := envRenderer(t, problem.EnvelopeFlat)
	req := httptest.NewRequest(http.MethodGet, "/orders/ord_42", nil)
	req = req.WithContext(problem.NewContext(req.Context(), rd))
	rec := httptest.NewRecorder()
	problem.Write(rec, req, notFound())

	assert.Equal(t, http.StatusNotFound, rec.Code, "status")
	assert.Equal(t, problem.ContentTypeJSON, rec.Header().Get("Content-Type"), "Content-Type")
	assert.JSONEq(t, `{"code":"ERR-404-001","message":"Order ord_42 not found."}`, rec.Body.String(), "body")
	assert.Len(t, logs.records(t), 1, "records in the context renderer's log")

	// The renderer made the id and kept it in the request state.
	id := rec.Header().Get(problem.HeaderRequestID)
	assert.Regexp(t, uuidPattern, id, "X-Request-Id")
	assert.Equal(t, id, middleware.RequestIDFromContext(req.Context()), "request id in the request state")
	assert.Equal(t, id, logs.only(t)["request_id"], "request id in the log")
}

func TestWriteWithoutRenderer(t *testing.T) {
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/orders/ord_42", nil)
	problem.Write(rec, req, notFound())

	assert.Equal(t, http.StatusNotFound, rec.Code, "status")
	assert.Equal(t, problem.ContentTypeProblem, rec.Header().Get("Content-Type"), "Content-Type")
	body := decodeObject(t, rec.Body.Bytes())
	assert.Equal(t, "NOT_FOUND", body["code"], "code")
	assert.Equal(t, "about:blank", body["type"], "type")
	assert.Equal(t, "/orders/ord_42", body["instance"], "instance")
	assert.Equal(t, rec.Header().Get(problem.HeaderRequestID), body["request_id"], "request_id")
}

func TestRender(t *testing.T) {
	rd, _ := envRenderer(t, problem.EnvelopeGoogle)
	req := httptest.NewRequest(http.MethodGet, "/x", nil)

	status, header, body := rd.Render(req, problem.New("METHOD_NOT_ALLOWED", "").WithHeader("Allow", "GET"))
	assert.Equal(t, http.StatusMethodNotAllowed, status, "Render status")
	assert.Equal(t, "GET", header.Get("Allow"), "Render Allow header")
	assert.Equal(t, problem.ContentTypeJSON, header.Get("Content-Type"), "Render Content-Type")
	assert.Regexp(t, uuidPattern, header.Get(problem.HeaderRequestID), "Render X-Request-Id")
	assert.JSONEq(t, `{"error":{"code":405,"status":"METHOD_NOT_ALLOWED","message":"Method not allowed.",
		"details":[{"reason":"METHOD_NOT_ALLOWED"}]}}`, string(body), "Render body")

	status, header, body = rd.Render(req, nil)
	assert.Zero(t, status, "Render(nil) status")
	assert.Empty(t, header, "Render(nil) header")
	assert.Empty(t, body, "Render(nil) body")

	status, _, body = rd.Render(httptest.NewRequest(http.MethodHead, "/x", nil), notFound())
	assert.Equal(t, http.StatusNotFound, status, "Render(HEAD) status")
	assert.Empty(t, body, "Render(HEAD) body")
}

func TestWriteThroughRecover(t *testing.T) {
	// The usual stack: Recover installs the renderer, the handler fails
	// with problem.Write or a panic.
	rd, _ := newRenderer(t, problem.Config{Envelope: problem.EnvelopeTracked}, slog.LevelInfo)
	for name, h := range map[string]http.HandlerFunc{
		"Write": func(w http.ResponseWriter, r *http.Request) { problem.Write(w, r, notFound()) },
		"panic": func(http.ResponseWriter, *http.Request) { panic(notFound()) },
	} {
		t.Run(name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			middleware.Recover(rd)(h).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/x", nil))
			require.Equal(t, http.StatusNotFound, rec.Code, "status")
			e := object(t, decodeObject(t, rec.Body.Bytes()), "error")
			assert.Equal(t, "NOT_FOUND", e["code"], "tracked code")
			assert.Equal(t, fixedTimestamp, e["timestamp"], "timestamp from the renderer's clock")
		})
	}
}
