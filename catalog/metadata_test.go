package catalog_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/catalog"
)

func TestBuiltinMetadata(t *testing.T) {
	c := catalog.MustNew("BLUM")
	want := map[string][]string{
		catalog.InvalidArgument:   {"offset"},
		catalog.InvalidFormat:     {"offset"},
		catalog.PayloadTooLarge:   {"limit"},
		catalog.ResourceExhausted: {"policy"},
		catalog.Internal:          {"id"},
	}
	for _, code := range c.Codes() {
		assert.Equal(t, want[code.Name], code.Metadata, "Lookup(%s).Metadata = %v, want %v", code.Name, code.Metadata, want[code.Name])
	}
}

func TestRegisterMetadata(t *testing.T) {
	tests := []struct {
		name string
		keys []string
		ok   bool
	}{
		{"none", nil, true},
		{"snake case", []string{"order_id"}, true},
		{"camel case, dash and dot", []string{"orderId", "x-y", "a.b"}, true},
		{"64 characters", []string{strings.Repeat("k", 64)}, true},
		{"empty key", []string{""}, false},
		{"65 characters", []string{strings.Repeat("k", 65)}, false},
		{"space", []string{"order id"}, false},
		{"quote", []string{`a"b`}, false},
		{"non-ASCII", []string{"größe"}, false},
		{"listed twice", []string{"policy", "limit", "policy"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := catalog.MustNew("BLUM")
			err := c.Register(catalog.Code{Name: "WITH_META", Status: 409, Metadata: tt.keys})
			if !tt.ok {
				assert.ErrorIs(t, err, catalog.ErrInvalidMeta, "Register(Metadata: %q) = %v, want %v", tt.keys, err, catalog.ErrInvalidMeta)
				_, found := c.Lookup("WITH_META")
				assert.False(t, found, "Lookup(WITH_META) after a failed Register = _, true, want false")
				return
			}
			require.NoError(t, err, "Register(Metadata: %q) = %v, want nil", tt.keys, err)
			got, _ := c.Lookup("WITH_META")
			assert.Equal(t, tt.keys, got.Metadata, "Lookup(WITH_META).Metadata = %q, want %q", got.Metadata, tt.keys)
		})
	}
}

func TestMetadataIsCopied(t *testing.T) {
	keys := []string{"order_id"}
	c := catalog.MustNew("BLUM", catalog.Code{Name: "DUPLICATE_ORDER", Status: 409, Metadata: keys})
	keys[0] = "changed by the caller"

	got, _ := c.Lookup("DUPLICATE_ORDER")
	require.Equal(t, []string{"order_id"}, got.Metadata, "Lookup(DUPLICATE_ORDER).Metadata = %q after the caller changed its slice", got.Metadata)
	got.Metadata[0] = "changed through Lookup"
	flat, _ := c.LookupFlat("BLUM-409-002")
	flat.Metadata[0] = "changed through LookupFlat"
	for _, code := range c.Codes() {
		if code.Name == "DUPLICATE_ORDER" {
			code.Metadata[0] = "changed through Codes"
		}
	}
	again, _ := c.Lookup("DUPLICATE_ORDER")
	assert.Equal(t, []string{"order_id"}, again.Metadata, "Lookup(DUPLICATE_ORDER).Metadata = %q after changing copies, want [order_id]", again.Metadata)
	assert.Equal(t, []string{"order_id"}, c.Ref("DUPLICATE_ORDER").Metadata, "Ref(DUPLICATE_ORDER).Metadata changed through a copy")
}

func TestCodeMarshalJSON(t *testing.T) {
	c := catalog.MustNew("BLUM")
	code, _ := c.Lookup(catalog.ResourceExhausted)
	raw, err := json.Marshal(code)
	require.NoError(t, err, "json.Marshal(RESOURCE_EXHAUSTED) = _, %v", err)
	want := `{"name":"RESOURCE_EXHAUSTED","anchor":"resource-exhausted","status":429,"flat":"BLUM-429-001",` +
		`"google":"RESOURCE_EXHAUSTED","tracked":"RATE_LIMIT_EXCEEDED","retryable":true,"message":"Rate limit exceeded.",` +
		`"resolution":"Back off and retry after the number of seconds in the Retry-After header.","metadata":["policy"]}`
	assert.JSONEq(t, want, string(raw), "json.Marshal(RESOURCE_EXHAUSTED) = %s, want %s", raw, want)
}

func TestMarshalJSONKeepsAngleBrackets(t *testing.T) {
	c := catalog.MustNew("BLUM")
	raw, err := c.MarshalJSON()
	require.NoError(t, err)
	assert.Contains(t, string(raw), `"resolution":"Include an Authorization: Basic <credentials> header."`,
		"MarshalJSON() escapes the resolution of MISSING_AUTHORIZATION")
	code, _ := c.Lookup(catalog.MissingAuthorization)
	raw, err = code.MarshalJSON()
	require.NoError(t, err)
	assert.Contains(t, string(raw), "Basic <credentials>", "Code.MarshalJSON() = %s, want < and > as written", raw)
	assert.True(t, json.Valid(raw), "Code.MarshalJSON() = %s, want valid JSON", raw)
}
