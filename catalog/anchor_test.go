package catalog_test

import (
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/catalog"
	"github.com/faultline-go/faultline/problem"
)

func TestSlug(t *testing.T) {
	tests := []struct{ name, want string }{
		{catalog.NotFound, "not-found"},
		{catalog.Internal, "internal"},
		{catalog.MissingAuthorization, "missing-authorization"},
		{"HTTP2_REQUIRED", "http2-required"},
		{"A_B_C", "a-b-c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := catalog.Slug(tt.name)
			assert.Equal(t, tt.want, got, "Slug(%q) = %q, want %q", tt.name, got, tt.want)
			code := catalog.Code{Name: tt.name}
			assert.Equal(t, tt.want, code.Anchor(), "Code{Name: %q}.Anchor() = %q, want %q", tt.name, code.Anchor(), tt.want)
		})
	}
}

// TestAnchorIsProblemType holds the anchor to the problem envelope's type:
// with a type base URI, every code's type is the base, a slash and its anchor.
func TestAnchorIsProblemType(t *testing.T) {
	const base = "https://example.com/errors"
	cat := catalog.MustNew("BLUM", catalog.Code{Name: "HTTP2_REQUIRED", Status: 426},
		catalog.Code{Name: "X", Status: 418})
	rd := problem.MustRenderer(problem.Config{Catalog: cat, TypeBaseURI: base + "/", Logger: slog.New(slog.DiscardHandler)})
	for _, code := range cat.Codes() {
		t.Run(code.Name, func(t *testing.T) {
			_, _, body := rd.Render(httptest.NewRequest("GET", "/x", nil), problem.New(code.Name, ""))
			var got struct{ Type string }
			require.NoError(t, json.Unmarshal(body, &got), "problem body %s", body)
			want := base + "/" + code.Anchor()
			assert.Equal(t, want, got.Type, "problem type of %s = %q, want %q (the anchor %q)", code.Name, got.Type, want, code.Anchor())
		})
	}
}

func TestLookupAnchor(t *testing.T) {
	c := catalog.MustNew("BLUM", catalog.Code{Name: "HTTP2_REQUIRED", Status: 426})
	for _, code := range c.Codes() {
		got, ok := c.LookupAnchor(code.Anchor())
		require.True(t, ok, "LookupAnchor(%q) = _, false, want true", code.Anchor())
		assert.Equal(t, code, got, "LookupAnchor(%q) = %+v, want %+v", code.Anchor(), got, code)
	}
	for _, anchor := range []string{"", "NOT_FOUND", "not_found", "NOT-FOUND", "Not-Found", "not-found-", "nope", "not--found", "internal/"} {
		t.Run("miss "+anchor, func(t *testing.T) {
			got, ok := c.LookupAnchor(anchor)
			assert.False(t, ok, "LookupAnchor(%q) = %+v, true, want false", anchor, got)
		})
	}
}
