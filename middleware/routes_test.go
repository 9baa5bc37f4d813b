package middleware_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/catalog"
	"github.com/faultline-go/faultline/middleware"
	"github.com/faultline-go/faultline/problem"
)

// newChiRouter returns the router of the package doc: RequestID, Recover,
// the envelope's 404 and 405, routes at the top level, in an r.Route group,
// and in a mounted subrouter.
func newChiRouter(rd *problem.Renderer) http.Handler {
	ok := func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.Method+" "+chi.RouteContext(r.Context()).RoutePattern()+" "+chi.URLParam(r, "id"))
	}
	r := chi.NewRouter()
	r.Use(middleware.RequestID, middleware.Recover(rd))
	r.NotFound(middleware.NotFound)
	r.MethodNotAllowed(middleware.MethodNotAllowed)

	r.Get("/v1/orders", ok)
	r.Post("/v1/orders", ok)
	r.Post("/v1/payments", ok)
	r.Route("/v1/accounts", func(r chi.Router) {
		r.Get("/{id}", ok)
		r.Patch("/{id}", ok)
		r.Delete("/{id}", ok)
	})
	admin := chi.NewRouter()
	admin.Put("/users/{id}", ok)
	r.Mount("/admin", admin)
	return r
}

func TestChiNotFound(t *testing.T) {
	paths := []string{"/", "/nope", "/v1/orders/1/x", "/v1/accounts", "/admin/nope", "/admin/users"}
	for _, env := range envelopes {
		t.Run(env, func(t *testing.T) {
			rd, logs := newRenderer(t, env)
			h := newChiRouter(rd)
			for _, path := range paths {
				t.Run(path, func(t *testing.T) {
					rec := serve(h, http.MethodGet, path)
					b := requireError(t, rd, env, rec, http.StatusNotFound, catalog.NotFound)
					assert.Equal(t, "No resource matches the request path.", b.Message)
					assert.Empty(t, rec.Header().Get(middleware.HeaderAllow), "a 404 has no Allow header")
					requireUUIDv4(t, rec.Header().Get(middleware.HeaderRequestID))
				})
			}
			assert.Len(t, logs.records(t), len(paths), "one INFO record per 404")
		})
	}
}

func TestChiMethodNotAllowed(t *testing.T) {
	tests := []struct {
		method, path string
		allow        string
	}{
		{http.MethodPut, "/v1/orders", "GET, POST"},
		{http.MethodDelete, "/v1/orders", "GET, POST"},
		{http.MethodDelete, "/v1/payments", "POST"},
		{http.MethodGet, "/v1/payments", "POST"},
		{http.MethodPost, "/v1/accounts/acc_1", "GET, PATCH, DELETE"},
		{http.MethodPut, "/v1/accounts/acc%2F1", "GET, PATCH, DELETE"},
		{http.MethodGet, "/admin/users/7", "PUT"},
		{http.MethodOptions, "/admin/users/7", "PUT"},
	}
	for _, env := range envelopes {
		for _, tt := range tests {
			t.Run(env+"/"+tt.method+" "+tt.path, func(t *testing.T) {
				rd, _ := newRenderer(t, env)
				rec := serve(newChiRouter(rd), tt.method, tt.path)

				b := requireError(t, rd, env, rec, http.StatusMethodNotAllowed, catalog.MethodNotAllowed)
				assert.Equal(t, tt.allow, rec.Header().Get(middleware.HeaderAllow),
					"%s %s: Allow = %q, want %q", tt.method, tt.path, rec.Header().Get(middleware.HeaderAllow), tt.allow)
				assert.Len(t, rec.Header().Values(middleware.HeaderAllow), 1, "one Allow header")
				assert.Equal(t, "Method "+tt.method+" is not allowed on this resource.", b.Message)
			})
		}
	}
}

func TestChiUnknownMethod(t *testing.T) {
	// chi hands methods it does not know to MethodNotAllowed, whether or
	// not the path is routed.
	rd, _ := newRenderer(t, problem.EnvelopeFlat)
	h := newChiRouter(rd)

	rec := serve(h, "PROPFIND", "/v1/orders")
	requireError(t, rd, problem.EnvelopeFlat, rec, http.StatusMethodNotAllowed, catalog.MethodNotAllowed)
	assert.Equal(t, "GET, POST", rec.Header().Get(middleware.HeaderAllow))

	rec = serve(h, "PROPFIND", "/nope")
	requireError(t, rd, problem.EnvelopeFlat, rec, http.StatusNotFound, catalog.NotFound)
	assert.Empty(t, rec.Header().Values(middleware.HeaderAllow), "a 404 has no Allow header")
}

func TestChiRoutesServed(t *testing.T) {
	rd, logs := newRenderer(t, problem.EnvelopeFlat)
	h := newChiRouter(rd)
	tests := []struct{ method, path, body string }{
		{http.MethodGet, "/v1/orders", "GET /v1/orders "},
		{http.MethodPost, "/v1/orders", "POST /v1/orders "},
		{http.MethodPatch, "/v1/accounts/acc_1", "PATCH /v1/accounts/{id} acc_1"},
		{http.MethodPut, "/admin/users/7", "PUT /admin/users/{id} 7"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			rec := serve(h, tt.method, tt.path)
			assert.Equal(t, http.StatusOK, rec.Code)
			assert.Equal(t, tt.body, rec.Body.String())
		})
	}
	assert.Empty(t, logs.String())
}

func TestChiHeadNotFound(t *testing.T) {
	for _, env := range envelopes {
		t.Run(env, func(t *testing.T) {
			rd, _ := newRenderer(t, env)
			rec := serve(newChiRouter(rd), http.MethodHead, "/nope")
			assert.Equal(t, http.StatusNotFound, rec.Code)
			assert.Equal(t, contentType(env), rec.Header().Get("Content-Type"))
			assert.Empty(t, rec.Body.String(), "HEAD body")
			requireUUIDv4(t, rec.Header().Get(middleware.HeaderRequestID))
		})
	}
}

func TestMethodNotAllowedOutsideChi(t *testing.T) {
	// Without a chi route context there is nothing to list: the Allow
	// header is present and empty, which RFC 9110 reads as "no methods".
	rd, _ := newRenderer(t, problem.EnvelopeFlat)
	rec := serve(middleware.Recover(rd)(http.HandlerFunc(middleware.MethodNotAllowed)), http.MethodPost, "/x")
	requireError(t, rd, problem.EnvelopeFlat, rec, http.StatusMethodNotAllowed, catalog.MethodNotAllowed)
	assert.Equal(t, []string{""}, rec.Header().Values(middleware.HeaderAllow))
}

// newServeMux returns a plain http.ServeMux behind middleware.ServeMux, with
// RequestID and Recover outside it.
func newServeMux(rd *problem.Renderer) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /x", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "x")
	})
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "item "+r.PathValue("id"))
	})
	mux.HandleFunc("DELETE /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /orders", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
	})
	mux.HandleFunc("/files/", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "files")
	})
	return middleware.RequestID(middleware.Recover(rd)(middleware.ServeMux(mux)))
}

func TestServeMuxErrors(t *testing.T) {
	tests := []struct {
		method, path string
		status       int
		code         string
		allow        string
	}{
		{http.MethodGet, "/nope", http.StatusNotFound, catalog.NotFound, ""},
		{http.MethodGet, "/items", http.StatusNotFound, catalog.NotFound, ""},
		{http.MethodPost, "/x", http.StatusMethodNotAllowed, catalog.MethodNotAllowed, "GET, HEAD"},
		{http.MethodPut, "/items/7", http.StatusMethodNotAllowed, catalog.MethodNotAllowed, "DELETE, GET, HEAD"},
		{http.MethodGet, "/orders", http.StatusMethodNotAllowed, catalog.MethodNotAllowed, "POST"},
	}
	for _, env := range envelopes {
		for _, tt := range tests {
			t.Run(env+"/"+tt.method+" "+tt.path, func(t *testing.T) {
				rd, _ := newRenderer(t, env)
				rec := serve(newServeMux(rd), tt.method, tt.path)

				requireError(t, rd, env, rec, tt.status, tt.code)
				assert.Equal(t, tt.allow, rec.Header().Get(middleware.HeaderAllow),
					"%s %s: Allow = %q, want %q", tt.method, tt.path, rec.Header().Get(middleware.HeaderAllow), tt.allow)
				assert.NotContains(t, rec.Body.String(), "page not found", "ServeMux's own text must not leak")
				assert.NotContains(t, rec.Body.String(), "Method Not Allowed\n")
			})
		}
	}
}

func TestServeMuxRoutesServed(t *testing.T) {
	rd, logs := newRenderer(t, problem.EnvelopeTracked)
	h := newServeMux(rd)
	tests := []struct {
		method, path string
		status       int
		body         string
	}{
		{http.MethodGet, "/x", http.StatusOK, "x"},
		{http.MethodHead, "/x", http.StatusOK, "x"}, // the recorder keeps HEAD bodies; a server drops them
		{http.MethodGet, "/items/42", http.StatusOK, "item 42"},
		{http.MethodDelete, "/items/42", http.StatusNoContent, ""},
		{http.MethodPost, "/orders", http.StatusCreated, ""},
		{http.MethodGet, "/files/a/b", http.StatusOK, "files"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			rec := serve(h, tt.method, tt.path)
			assert.Equal(t, tt.status, rec.Code, "body %s", rec.Body)
			assert.Equal(t, tt.body, rec.Body.String())
			requireUUIDv4(t, rec.Header().Get(middleware.HeaderRequestID))
		})
	}
	assert.Empty(t, logs.String())
}

func TestServeMuxRedirectsLikeMux(t *testing.T) {
	// Requests mux redirects (a missing trailing slash, an unclean path)
	// are mux's to answer, exactly as it would without ServeMux.
	mux := http.NewServeMux()
	mux.HandleFunc("/files/", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("GET /x", func(w http.ResponseWriter, r *http.Request) {})
	for _, path := range []string{"/files", "/a/../x", "//x"} {
		t.Run(path, func(t *testing.T) {
			want := serve(mux, http.MethodGet, path)
			got := serve(middleware.ServeMux(mux), http.MethodGet, path)
			require.GreaterOrEqual(t, want.Code, 300, "mux should redirect %s", path)
			require.Less(t, want.Code, 400, "mux should redirect %s", path)
			assert.Equal(t, want.Code, got.Code)
			assert.Equal(t, want.Header(), got.Header())
			assert.Equal(t, want.Body.String(), got.Body.String())
		})
	}
}

func TestServeMuxHeadNotFound(t *testing.T) {
	rd, _ := newRenderer(t, problem.EnvelopeGoogle)
	rec := serve(newServeMux(rd), http.MethodHead, "/nope")
	assert.Equal(t, http.StatusNotFound, rec.Code)
	assert.Equal(t, problem.ContentTypeJSON, rec.Header().Get("Content-Type"))
	assert.Empty(t, rec.Body.String())
}
