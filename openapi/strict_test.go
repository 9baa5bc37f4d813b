package openapi_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/catalog"
	"github.com/faultline-go/faultline/openapi"
	"github.com/faultline-go/faultline/problem"
)

// strictComponents returns the google-strict components for cfg, through
// JSON as a document would carry them.
func strictComponents(t *testing.T, cfg problem.Config) (schema map[string]any, examples map[string]struct{ Value json.RawMessage }) {
	t.Helper()
	cfg.Envelope = problem.EnvelopeGoogleStrict
	g, err := openapi.New(openapi.Config{Problem: cfg})
	require.NoError(t, err, "New(google-strict) = _, %v", err)
	raw, err := json.Marshal(g.Components())
	require.NoError(t, err)
	var comp struct {
		Schemas  map[string]map[string]any
		Examples map[string]struct{ Value json.RawMessage }
	}
	require.NoError(t, json.Unmarshal(raw, &comp))
	require.Contains(t, comp.Schemas, "GoogleStrictError", "components.schemas")
	return comp.Schemas["GoogleStrictError"], comp.Examples
}

// strictDetails is the typed details of a google-strict body, by @type
// without its prefix.
func strictDetails(t *testing.T, body json.RawMessage) (order []string, byType map[string]map[string]any) {
	t.Helper()
	var b struct {
		Error struct {
			Status  string
			Details []map[string]any
		}
	}
	require.NoError(t, json.Unmarshal(body, &b), "google-strict body %s", body)
	byType = map[string]map[string]any{}
	for _, d := range b.Error.Details {
		name, _ := d["@type"].(string)
		name = name[len("type.googleapis.com/google.rpc."):]
		order = append(order, name)
		byType[name] = d
	}
	return order, byType
}

func TestGoogleStrictExamples(t *testing.T) {
	tests := []struct {
		name, domain, wantDomain string
	}{
		{"without an error domain", "", "api.example.com"},
		{"with the service's error domain", "orders.example.com", "orders.example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, examples := strictComponents(t, problem.Config{ErrorDomain: tt.domain})
			for _, code := range catalog.MustNew("").Codes() {
				order, det := strictDetails(t, examples[code.Name].Value)
				require.NotEmpty(t, order, "example %s has no details", code.Name)
				assert.Equal(t, "ErrorInfo", order[0], "example %s details[0]", code.Name)
				assert.Equal(t, code.Name, det["ErrorInfo"]["reason"], "example %s ErrorInfo.reason", code.Name)
				assert.Equal(t, tt.wantDomain, det["ErrorInfo"]["domain"], "example %s ErrorInfo.domain", code.Name)
				assert.Contains(t, det, "RequestInfo", "example %s details %v", code.Name, order)
			}
			_, det := strictDetails(t, examples[catalog.MissingField].Value)
			assert.Contains(t, det, "BadRequest", "MISSING_FIELD example details")
			_, det = strictDetails(t, examples[catalog.ResourceExhausted].Value)
			assert.Equal(t, "1s", det["RetryInfo"]["retryDelay"], "RESOURCE_EXHAUSTED RetryInfo.retryDelay")
		})
	}
}

// TestGoogleStrictStatusNames: the schema's status enum is the set of
// names problem.GRPCCodeName gives the error statuses.
func TestGoogleStrictStatusNames(t *testing.T) {
	schema, _ := strictComponents(t, problem.Config{})
	errorProps := schema["properties"].(map[string]any)["error"].(map[string]any)["properties"].(map[string]any)
	var got []string
	for _, v := range errorProps["status"].(map[string]any)["enum"].([]any) {
		got = append(got, v.(string))
	}
	for _, st := range []int{400, 401, 403, 404, 405, 408, 409, 413, 415, 416, 422, 429, 499, 500, 501, 502, 503, 504} {
		name := problem.GRPCCodeName(st)
		assert.True(t, slices.Contains(got, name), "status enum %v lacks GRPCCodeName(%d) = %s", got, st, name)
	}
	assert.NotContains(t, got, "OK", "status enum")
	assert.True(t, slices.IsSorted(got), "status enum %v, want sorted", got)
}
