package reference_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/catalog"
	"github.com/faultline-go/faultline/catalog/reference"
	"github.com/faultline-go/faultline/problem"
)

func newHandler(t *testing.T, mount string) http.Handler {
	t.Helper()
	ref, err := reference.New(reference.Config{Problem: problem.Config{Catalog: demoCatalog(t)}})
	require.NoError(t, err)
	h, err := ref.Handler(mount)
	require.NoError(t, err, "Handler(%q) = _, %v, want nil", mount, err)
	// The renderer a faultline stack puts in the context answers the
	// handler's 404 and 405 in the service's envelope.
	rd := problem.MustRenderer(problem.Config{Envelope: problem.EnvelopeFlat, Catalog: demoCatalog(t),
		Logger: slog.New(slog.DiscardHandler)})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(problem.NewContext(r.Context(), rd)))
	})
}

func TestHandler(t *testing.T) {
	h := newHandler(t, "/errors")
	tests := []struct {
		name   string
		method string
		path   string
		accept string
		status int
		ctype  string
		body   string // a string the body must hold
	}{
		{"catalog as JSON by default", "GET", "/errors", "", 200, reference.ContentTypeJSON, `"prefix": "BLUM"`},
		{"catalog with a trailing slash", "GET", "/errors/", "", 200, reference.ContentTypeJSON, `"prefix": "BLUM"`},
		{"catalog as JSON for */*", "GET", "/errors", "*/*", 200, reference.ContentTypeJSON, `"name": "DUPLICATE_ORDER"`},
		{"catalog as Markdown", "GET", "/errors", "text/markdown", 200, reference.ContentTypeMarkdown, "# Error reference"},
		{"catalog as Markdown by q", "GET", "/errors", "application/json;q=0.5, text/markdown;q=0.9", 200, reference.ContentTypeMarkdown, "## Client errors (4xx)"},
		{"catalog as JSON by q", "GET", "/errors", "application/json;q=0.9, text/markdown;q=0.5", 200, reference.ContentTypeJSON, `"codes"`},
		{"unacceptable falls back to JSON", "GET", "/errors", "image/png", 200, reference.ContentTypeJSON, `"codes"`},
		{"one code as JSON", "GET", "/errors/not-found", "", 200, reference.ContentTypeJSON, `"flat":"BLUM-404-001"`},
		{"one code of the service as JSON", "GET", "/errors/duplicate-order", "application/json", 200, reference.ContentTypeJSON, `"metadata":["order_id"]`},
		{"one code as Markdown", "GET", "/errors/not-found", "text/markdown", 200, reference.ContentTypeMarkdown, "# `NOT_FOUND`"},
		{"unknown anchor", "GET", "/errors/no-such-code", "", 404, problem.ContentTypeJSON, `"code":"BLUM-404-001"`},
		{"code name instead of anchor", "GET", "/errors/NOT_FOUND", "", 404, problem.ContentTypeJSON, `"message":"No error code has this anchor."`},
		{"path below an anchor", "GET", "/errors/not-found/more", "", 404, problem.ContentTypeJSON, `"code":"BLUM-404-001"`},
		{"outside the mount", "GET", "/errorsx", "", 404, problem.ContentTypeJSON, `"code":"BLUM-404-001"`},
		{"POST", "POST", "/errors", "", 405, problem.ContentTypeJSON, `"code":"BLUM-405-001"`},
		{"DELETE a code", "DELETE", "/errors/not-found", "", 405, problem.ContentTypeJSON, `"code":"BLUM-405-001"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.path, nil)
			if tt.accept != "" {
				req.Header.Set("Accept", tt.accept)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			where := tt.method + " " + tt.path + " Accept: " + tt.accept
			assert.Equal(t, tt.status, rec.Code, "%s status = %d, want %d", where, rec.Code, tt.status)
			assert.Equal(t, tt.ctype, rec.Header().Get("Content-Type"), "%s Content-Type", where)
			assert.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"), "%s X-Content-Type-Options", where)
			assert.Contains(t, rec.Body.String(), tt.body, "%s body = %.300s, want it to hold %s", where, rec.Body.String(), tt.body)
			if tt.status == 200 {
				assert.Equal(t, "Accept", rec.Header().Get("Vary"), "%s Vary", where)
			}
			if tt.status == 405 {
				assert.Equal(t, "GET, HEAD", rec.Header().Get("Allow"), "%s Allow", where)
			}
			if tt.ctype == reference.ContentTypeJSON {
				assert.True(t, json.Valid(rec.Body.Bytes()), "%s body is not valid JSON: %.300s", where, rec.Body.String())
			}
		})
	}
}

func TestHandlerEntries(t *testing.T) {
	h := newHandler(t, "/errors")
	for _, code := range demoCatalog(t).Codes() {
		t.Run(code.Name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", "/errors/"+code.Anchor(), nil))
			require.Equal(t, 200, rec.Code, "GET /errors/%s status = %d, want 200", code.Anchor(), rec.Code)
			var got struct {
				Name, Flat string
				Status     int
			}
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &got))
			assert.Equal(t, code.Name, got.Name, "GET /errors/%s name", code.Anchor())
			assert.Equal(t, code.Flat, got.Flat, "GET /errors/%s flat", code.Anchor())

			rec = httptest.NewRecorder()
			req := httptest.NewRequest("GET", "/errors/"+code.Anchor(), nil)
			req.Header.Set("Accept", "text/markdown")
			h.ServeHTTP(rec, req)
			md := rec.Body.String()
			assert.True(t, strings.HasPrefix(md, `<a id="`+code.Anchor()+`"></a>`), "GET /errors/%s Markdown starts %.60q, want its anchor", code.Anchor(), md)
			assert.Equal(t, 5, strings.Count(md, "```json\n"), "GET /errors/%s Markdown has %d example bodies, want 5", code.Anchor(), strings.Count(md, "```json\n"))
		})
	}
}

func TestHandlerHead(t *testing.T) {
	h := newHandler(t, "/errors")
	get, head := httptest.NewRecorder(), httptest.NewRecorder()
	h.ServeHTTP(get, httptest.NewRequest("GET", "/errors/internal", nil))
	h.ServeHTTP(head, httptest.NewRequest("HEAD", "/errors/internal", nil))
	assert.Equal(t, 200, head.Code, "HEAD /errors/internal status = %d, want 200", head.Code)
	assert.Empty(t, head.Body.String(), "HEAD /errors/internal wrote a body")
	assert.Equal(t, get.Header().Get("Content-Length"), head.Header().Get("Content-Length"), "HEAD and GET Content-Length differ")
	assert.Equal(t, strconv.Itoa(get.Body.Len()), get.Header().Get("Content-Length"), "GET Content-Length is not the body's length")
}

func TestHandlerRootMount(t *testing.T) {
	h := newHandler(t, "/")
	for path, status := range map[string]int{"/": 200, "/not-found": 200, "/nope": 404, "/not-found/x": 404} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		assert.Equal(t, status, rec.Code, "GET %s under mount / = %d, want %d", path, rec.Code, status)
	}
}

func TestHandlerMountErrors(t *testing.T) {
	ref, err := reference.New(reference.Config{Envelopes: []string{}})
	require.NoError(t, err)
	for _, mount := range []string{"", "errors", "/errors/", "/errors/{anchor}", "/errors/*", "/errors?x", "/errors#top"} {
		h, err := ref.Handler(mount)
		assert.ErrorIs(t, err, reference.ErrInvalidMount, "Handler(%q) = _, %v, want %v", mount, err, reference.ErrInvalidMount)
		assert.Nil(t, h, "Handler(%q) = %v, _, want nil", mount, h)
	}
}

// TestHandlerProblemTypeResolves follows a problem type to its entry: with
// the type base URI at the mount, the type of any error is a URL the
// handler answers.
func TestHandlerProblemTypeResolves(t *testing.T) {
	cat := demoCatalog(t)
	cfg := problem.Config{Catalog: cat, TypeBaseURI: "https://api.example.com/errors", Logger: slog.New(slog.DiscardHandler)}
	rd := problem.MustRenderer(cfg)
	ref, err := reference.New(reference.Config{Problem: cfg, Envelopes: []string{}})
	require.NoError(t, err)
	h, err := ref.Handler("/errors")
	require.NoError(t, err)
	for _, name := range []string{catalog.NotFound, catalog.ResourceExhausted, "DUPLICATE_ORDER"} {
		_, _, body := rd.Render(httptest.NewRequest("GET", "/v1/x", nil), problem.New(name, ""))
		var p struct{ Type string }
		require.NoError(t, json.Unmarshal(body, &p))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", p.Type, nil))
		require.Equal(t, 200, rec.Code, "GET %s (type of %s) = %d, want 200", p.Type, name, rec.Code)
		assert.Contains(t, rec.Body.String(), `"name":"`+name+`"`, "GET %s = %s, want the entry of %s", p.Type, rec.Body.String(), name)
	}
}
