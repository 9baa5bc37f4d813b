package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/catalog/reference"
)

// TestErrorReference reads the demo's error reference at GET /errors and
// GET /errors/{anchor} in every envelope.
func TestErrorReference(t *testing.T) {
	for _, envelope := range envelopes {
		t.Run(envelope, func(t *testing.T) {
			s := startServer(t, envelope, false)

			t.Run("catalog as JSON", func(t *testing.T) {
				resp, body := s.do(t, "GET", "/errors", "", nil)
				require.Equal(t, 200, resp.StatusCode, "GET /errors status = %d, want 200", resp.StatusCode)
				assert.Equal(t, reference.ContentTypeJSON, resp.Header.Get("Content-Type"), "GET /errors Content-Type")
				var cat struct {
					Prefix string
					Codes  []struct{ Name, Anchor, Flat string }
				}
				require.NoError(t, json.Unmarshal(body, &cat), "GET /errors body %.200s", body)
				assert.Equal(t, "BLUM", cat.Prefix, "GET /errors prefix")
				assert.Contains(t, cat.Codes, struct{ Name, Anchor, Flat string }{"DUPLICATE_ORDER", "duplicate-order", "BLUM-409-002"},
					"GET /errors lacks the demo's own code")
			})
			t.Run("catalog as Markdown", func(t *testing.T) {
				resp, body := s.do(t, "GET", "/errors", "", map[string]string{"Accept": "text/markdown"})
				require.Equal(t, 200, resp.StatusCode, "GET /errors status = %d, want 200", resp.StatusCode)
				assert.Equal(t, reference.ContentTypeMarkdown, resp.Header.Get("Content-Type"), "GET /errors Content-Type")
				md := string(body)
				assert.Contains(t, md, "| [`DUPLICATE_ORDER`](#duplicate-order) | 409 | `BLUM-409-002` |", "GET /errors lacks the demo's own code")
				assert.Contains(t, md, "**"+envelope+"** (`", "GET /errors has no example in the %s envelope", envelope)
				for _, other := range envelopes {
					if other != envelope {
						assert.NotContains(t, md, "**"+other+"** (`", "GET /errors shows the %s envelope, the demo uses %s", other, envelope)
					}
				}
			})
			t.Run("one code", func(t *testing.T) {
				resp, body := s.do(t, "GET", "/errors/duplicate-order", "", map[string]string{"Accept": "application/json"})
				require.Equal(t, 200, resp.StatusCode, "GET /errors/duplicate-order status = %d, want 200", resp.StatusCode)
				assert.JSONEq(t, `{"name":"DUPLICATE_ORDER","anchor":"duplicate-order","status":409,"flat":"BLUM-409-002",`+
					`"google":"DUPLICATE_ORDER","tracked":"CONFLICT","retryable":false,`+
					`"message":"An order with this client_order_id already exists.",`+
					`"resolution":"Use a new client_order_id for a new order; the existing order stands."}`,
					string(body), "GET /errors/duplicate-order")
			})
			t.Run("unknown anchor in the envelope", func(t *testing.T) {
				resp, body := s.do(t, "GET", "/errors/no-such-code", "", nil)
				got := s.checkError(t, resp, body, 404, codeNotFound)
				assert.Equal(t, "No error code has this anchor.", got.Message, "GET /errors/no-such-code message")
			})
			t.Run("POST in the envelope", func(t *testing.T) {
				resp, body := s.do(t, "POST", "/errors", `{}`, nil)
				s.checkError(t, resp, body, 405, codeMethodNotAllowed)
				assert.Equal(t, "GET, HEAD", resp.Header.Get("Allow"), "POST /errors Allow")
			})
		})
	}
}

// TestErrorReferenceProblemType follows the problem type of a demo error to
// its entry, with the type base URI at the demo's /errors.
func TestErrorReferenceProblemType(t *testing.T) {
	s := startServerWith(t, "problem", func(cfg *serverConfig) {
		cfg.Problem.TypeBaseURI = "https://api.example.com/errors"
		cfg.Rate = 1_000_000
	})
	resp, body := s.do(t, "GET", "/v1/accounts/acc_2", "", nil)
	require.Equal(t, 404, resp.StatusCode)
	var p struct{ Type string }
	require.NoError(t, json.Unmarshal(body, &p))
	path, ok := strings.CutPrefix(p.Type, "https://api.example.com")
	require.True(t, ok, "problem type = %q, want it under the type base URI", p.Type)

	resp, body = s.do(t, "GET", path, "", map[string]string{"Accept": "text/markdown"})
	require.Equal(t, 200, resp.StatusCode, "GET %s (the problem type) status = %d, want 200", path, resp.StatusCode)
	assert.True(t, strings.HasPrefix(string(body), `<a id="not-found"></a>`), "GET %s = %.80q, want the entry of NOT_FOUND", path, body)
	assert.Contains(t, string(body), `"type": "https://api.example.com/errors/not-found"`, "GET %s example lacks the problem type", path)
}
