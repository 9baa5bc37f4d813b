package client_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/faultline-go/faultline/catalog"
	"github.com/faultline-go/faultline/client"
)

// FuzzDecode checks that any error body decodes to a *client.Error with
// the response's status, a bounded valid excerpt or an envelope, and a
// closed body.
func FuzzDecode(f *testing.F) {
	for _, seed := range []struct{ ct, body string }{
		{"application/json", `{"code":"BLUM-404-001","message":"Order ord_42 not found."}`},
		{"application/json", `{"error":{"code":500,"status":"INTERNAL","message":"m","details":[{"reason":"ERROR_RECORDED","metadata":{"id":"exc_1"}}]}}`},
		{"application/json", `{"error":{"code":400,"status":"INVALID_ARGUMENT","message":"m","details":[{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"field":"a"}]},{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"1.5s"}]}}`},
		{"application/json", `{"error":{"code":"INVALID_REQUEST","message":"m","details":{"reason":"MISSING_FIELD","fields":[{"field":"a"}]},"request_id":"r"}}`},
		{"application/problem+json", `{"type":"about:blank","status":404,"code":"NOT_FOUND","errors":[],"n":1}`},
		{"text/html", "<html><body>502</body></html>"},
		{"application/json", `{"error":{"code":500,"status":"INTERNAL","mess`},
	} {
		f.Add(500, seed.ct, seed.body)
	}
	cat := client.CatalogOf(catalog.MustNew("BLUM"))
	f.Fuzz(func(t *testing.T, status int, contentType, body string) {
		if status < 400 || status > 599 {
			return
		}
		closed := false
		resp := &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {contentType}},
			Body: readCloser{strings.NewReader(body), func() { closed = true }}}
		err := client.Decoder{Catalog: cat, MaxBody: 1 << 12}.Decode(resp)
		var e *client.Error
		if !errors.As(err, &e) {
			t.Fatalf("Decode(%d, %q) = %v, want a *client.Error", status, body, err)
		}
		if e.Status != status {
			t.Fatalf("Decode(%d, %q).Status = %d", status, body, e.Status)
		}
		if len(e.Excerpt) > client.MaxExcerpt || !utf8.ValidString(e.Excerpt) {
			t.Fatalf("Decode(%d, %q).Excerpt = %q: longer than %d or not UTF-8", status, body, e.Excerpt, client.MaxExcerpt)
		}
		if e.Envelope != client.EnvelopeNone && e.Excerpt != "" {
			t.Fatalf("Decode(%d, %q): envelope %q with excerpt %q", status, body, e.Envelope, e.Excerpt)
		}
		if e.RetryAfter < 0 {
			t.Fatalf("Decode(%d, %q).RetryAfter = %v", status, body, e.RetryAfter)
		}
		if !closed {
			t.Fatalf("Decode(%d, %q) left the body open", status, body)
		}
		_ = e.Error()
	})
}

// FuzzParseCatalog checks that any input is a catalog or an error wrapping
// ErrInvalidCatalog, never a panic.
func FuzzParseCatalog(f *testing.F) {
	raw, _ := catalog.MustNew("BLUM").MarshalJSON()
	f.Add(raw)
	f.Add([]byte(`{"codes":[{"name":"A","status":400},{"name":"A","status":401}]}`))
	f.Add([]byte(`{"codes":[null]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := client.ParseCatalog(data)
		if err != nil && !errors.Is(err, client.ErrInvalidCatalog) {
			t.Fatalf("ParseCatalog(%q) = %v, want ErrInvalidCatalog", data, err)
		}
		if (c == nil) == (err == nil) {
			t.Fatalf("ParseCatalog(%q) = %v, %v", data, c, err)
		}
	})
}

type readCloser struct {
	io.Reader
	close func()
}

func (r readCloser) Close() error { r.close(); return nil }
