package reference_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/catalog"
	"github.com/faultline-go/faultline/catalog/reference"
	"github.com/faultline-go/faultline/problem"
)

// demoCatalog is the built-in catalog under BLUM with two codes of a
// service's own.
func demoCatalog(t *testing.T) *catalog.Catalog {
	t.Helper()
	cat, err := catalog.New("BLUM",
		catalog.Code{Name: "DUPLICATE_ORDER", Status: 409, Title: "Duplicate order", Metadata: []string{"order_id"},
			Message: "An order with this client_order_id already exists.", Resolution: "Use a new client_order_id."},
		catalog.Code{Name: "PIPE_DREAM", Status: 418, Message: "Either a|b\nor c", Resolution: "Pick one | any <value>."})
	require.NoError(t, err)
	return cat
}

func TestNewConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  reference.Config
	}{
		{"unknown envelope", reference.Config{Envelopes: []string{"xml"}}},
		{"bad prefix", reference.Config{Problem: problem.Config{Prefix: "bad prefix"}}},
		{"prefix differs from the catalog's", reference.Config{Problem: problem.Config{Prefix: "ACME", Catalog: catalog.MustNew("BLUM")}}},
		{"relative type base URI", reference.Config{Problem: problem.Config{TypeBaseURI: "/errors"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref, err := reference.New(tt.cfg)
			assert.ErrorIs(t, err, reference.ErrInvalidConfig, "New(%+v) = _, %v, want %v", tt.cfg, err, reference.ErrInvalidConfig)
			assert.Nil(t, ref, "New(%+v) = %v, _, want nil", tt.cfg, ref)
		})
	}
}

// TestExamples checks that every code has one example per envelope, in the
// envelope's shape and with the code's name in it.
func TestExamples(t *testing.T) {
	cat := demoCatalog(t)
	ref, err := reference.New(reference.Config{Problem: problem.Config{Catalog: cat}})
	require.NoError(t, err)
	for _, code := range cat.Codes() {
		t.Run(code.Name, func(t *testing.T) {
			ex := ref.Examples(code.Name)
			require.Len(t, ex, 5, "Examples(%s) has %d bodies, want one per built-in envelope", code.Name, len(ex))
			want := map[string]string{"flat": code.Flat, "google": code.Google, "tracked": code.Tracked, "problem": code.Name,
				"google-strict": problem.GRPCCodeName(code.Status)}
			for _, e := range ex {
				var body struct {
					Code  any
					Error struct{ Code, Status any }
				}
				require.NoError(t, json.Unmarshal(e.Body, &body), "Examples(%s) %s body %s", code.Name, e.Envelope, e.Body)
				var got any
				switch e.Envelope {
				case "flat", "problem":
					got = body.Code
				case "google", "google-strict":
					got = body.Error.Status
				case "tracked":
					got = body.Error.Code
				}
				assert.Equal(t, want[e.Envelope], got, "Examples(%s) %s body %s names %v, want %v", code.Name, e.Envelope, e.Body, got, want[e.Envelope])
				wantCT := problem.ContentTypeJSON
				if e.Envelope == "problem" {
					wantCT = problem.ContentTypeProblem
				}
				assert.Equal(t, wantCT, e.ContentType, "Examples(%s) %s ContentType", code.Name, e.Envelope)
			}
		})
	}
	assert.Nil(t, ref.Examples("NO_SUCH_CODE"), "Examples(NO_SUCH_CODE) = %v, want nil", ref.Examples("NO_SUCH_CODE"))

	t.Run("fixed ids and time", func(t *testing.T) {
		for _, e := range ref.Examples(catalog.Internal) {
			assert.Contains(t, string(e.Body), "exc_01j9z3c5v6q8w2x4y7b1n3m5k8", "Examples(INTERNAL) %s body %s, want the fixed exc_ id", e.Envelope, e.Body)
		}
		again, err := reference.New(reference.Config{Problem: problem.Config{Catalog: cat}})
		require.NoError(t, err)
		assert.Equal(t, ref.Examples(catalog.Internal), again.Examples(catalog.Internal), "two references differ in their INTERNAL examples")
		assert.Equal(t, ref.Examples(catalog.NotFound), again.Examples(catalog.NotFound), "two references differ in their NOT_FOUND examples")
	})
	t.Run("copies", func(t *testing.T) {
		ex := ref.Examples(catalog.NotFound)
		ex[0].Body[0] = 'X'
		assert.Equal(t, byte('{'), ref.Examples(catalog.NotFound)[0].Body[0], "Examples(NOT_FOUND) shares its bodies with the caller")
	})
	t.Run("documented metadata in the example", func(t *testing.T) {
		ex := ref.Examples("DUPLICATE_ORDER")
		assert.Contains(t, string(ex[3].Body), `"order_id":"example"`, "problem example of DUPLICATE_ORDER = %s, want its metadata key", ex[3].Body)
	})
}

func TestEnvelopesChosen(t *testing.T) {
	ref, err := reference.New(reference.Config{Envelopes: []string{problem.EnvelopeGoogle}})
	require.NoError(t, err)
	ex := ref.Examples(catalog.NotFound)
	require.Len(t, ex, 1, "Examples(NOT_FOUND) with Envelopes [google] = %d bodies, want 1", len(ex))
	assert.Equal(t, "google", ex[0].Envelope)
	assert.JSONEq(t, `{"error":{"code":404,"status":"NOT_FOUND","message":"Resource not found.","details":[{"reason":"NOT_FOUND"}]}}`,
		string(ex[0].Body), "google example of NOT_FOUND")

	none, err := reference.New(reference.Config{Envelopes: []string{}})
	require.NoError(t, err)
	got := none.Examples(catalog.NotFound)
	assert.NotNil(t, got, "Examples(NOT_FOUND) with Envelopes [] = nil, want an empty slice")
	assert.Empty(t, got, "Examples(NOT_FOUND) with Envelopes [] = %v, want none", got)
	var md bytes.Buffer
	require.NoError(t, none.WriteMarkdown(&md))
	assert.NotContains(t, md.String(), "```json", "WriteMarkdown() with no envelopes has example bodies")
}

func TestWriteMarkdown(t *testing.T) {
	cat := demoCatalog(t)
	ref, err := reference.New(reference.Config{Problem: problem.Config{Catalog: cat, TypeBaseURI: "https://example.com/errors"}})
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, ref.WriteMarkdown(&buf))
	md := buf.String()

	client := strings.Index(md, "## Client errors (4xx)")
	server := strings.Index(md, "## Server errors (5xx)")
	codes := strings.Index(md, "## Codes")
	require.True(t, 0 < client && client < server && server < codes, "WriteMarkdown() sections out of order: 4xx at %d, 5xx at %d, codes at %d", client, server, codes)

	for _, code := range cat.Codes() {
		t.Run(code.Name, func(t *testing.T) {
			row := "| [`" + code.Name + "`](#" + code.Anchor() + ") | "
			at := strings.Index(md, row)
			require.Positive(t, at, "WriteMarkdown() has no table row for %s", code.Name)
			if code.Status < 500 {
				assert.True(t, client < at && at < server, "row of %s (%d) is not in the 4xx table", code.Name, code.Status)
			} else {
				assert.True(t, server < at && at < codes, "row of %s (%d) is not in the 5xx table", code.Name, code.Status)
			}
			anchor := `<a id="` + code.Anchor() + `"></a>`
			assert.Equal(t, 1, strings.Count(md, anchor), "WriteMarkdown() has %d anchors %s, want 1", strings.Count(md, anchor), anchor)
			assert.Contains(t, md, "`https://example.com/errors/"+code.Anchor()+"`", "WriteMarkdown() lacks the problem type of %s", code.Name)
		})
	}
	assert.Equal(t, 5*cat.Len(), strings.Count(md, "```json\n"), "WriteMarkdown() example bodies, want 5 per code")
	assert.Contains(t, md, "| [`DUPLICATE_ORDER`](#duplicate-order) | 409 | `BLUM-409-002` | `DUPLICATE_ORDER` | `ABORTED` | `CONFLICT` | `https://example.com/errors/duplicate-order` | Duplicate order | no |",
		"WriteMarkdown() row of DUPLICATE_ORDER")
	assert.Contains(t, md, "| Either a\\|b or c | Pick one \\| any \\<value>. |", "WriteMarkdown() does not escape the cells of PIPE_DREAM")
	assert.Contains(t, md, "Metadata keys: `order_id`.", "WriteMarkdown() lacks the metadata keys of DUPLICATE_ORDER")
	assert.Contains(t, md, "Metadata keys: none.", "WriteMarkdown() lacks a code without metadata keys")
}

func TestWriteJSON(t *testing.T) {
	cat := demoCatalog(t)
	ref, err := reference.New(reference.Config{Problem: problem.Config{Catalog: cat}})
	require.NoError(t, err)
	// A code registered later is not in the reference.
	require.NoError(t, cat.Register(catalog.Code{Name: "LATER", Status: 410}))

	var buf bytes.Buffer
	require.NoError(t, ref.WriteJSON(&buf))
	assert.True(t, strings.HasSuffix(buf.String(), "}\n"), "WriteJSON() does not end in a newline")
	assert.NotContains(t, buf.String(), "LATER", "WriteJSON() has a code registered after New")

	var got, want any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &got))
	before, err := catalog.New("BLUM",
		catalog.Code{Name: "DUPLICATE_ORDER", Status: 409, Title: "Duplicate order", Metadata: []string{"order_id"},
			Message: "An order with this client_order_id already exists.", Resolution: "Use a new client_order_id."},
		catalog.Code{Name: "PIPE_DREAM", Status: 418, Message: "Either a|b\nor c", Resolution: "Pick one | any <value>."})
	require.NoError(t, err)
	raw, err := before.MarshalJSON()
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &want))
	assert.Equal(t, want, got, "WriteJSON() = %s, want the catalog's MarshalJSON %s", buf.String(), raw)
}
