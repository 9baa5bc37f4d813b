package problem_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/faultline-go/faultline/problem"
)

// negotiated answers a GET with Accept (none when empty) through a
// renderer of env with or without Config.Negotiate.
func negotiated(t *testing.T, env string, negotiate bool, accept ...string) *httptest.ResponseRecorder {
	t.Helper()
	rd, _ := newRenderer(t, problem.Config{Envelope: env, Negotiate: negotiate, ErrorDomain: testDomain}, slog.LevelInfo)
	r := httptest.NewRequest(http.MethodGet, "/v1/orders/ord_42", nil)
	for _, a := range accept {
		r.Header.Add("Accept", a)
	}
	rec := httptest.NewRecorder()
	rd.Write(rec, r, notFound())
	return rec
}

// isProblemBody reports whether body has the problem envelope's shape.
func isProblemBody(t *testing.T, body []byte) bool {
	t.Helper()
	m := decodeObject(t, body)
	_, hasType := m["type"]
	_, hasInstance := m["instance"]
	return hasType && hasInstance
}

func TestNegotiation(t *testing.T) {
	const (
		problemCT = problem.ContentTypeProblem
		jsonCT    = problem.ContentTypeJSON
	)
	tests := []struct {
		name        string
		env         string
		negotiate   bool
		accept      []string
		wantProblem bool // the body is in the problem envelope
		wantCT      string
	}{
		{"off: problem+json asked of google", problem.EnvelopeGoogle, false, []string{"application/problem+json"}, false, jsonCT},
		{"off: json asked of problem", problem.EnvelopeProblem, false, []string{"application/json"}, true, problemCT},
		{"google, problem+json", problem.EnvelopeGoogle, true, []string{"application/problem+json"}, true, problemCT},
		{"flat, problem+json", problem.EnvelopeFlat, true, []string{"application/problem+json"}, true, problemCT},
		{"google-strict, problem+json", problem.EnvelopeGoogleStrict, true, []string{"application/problem+json"}, true, problemCT},
		{"tracked, problem+json preferred", problem.EnvelopeTracked, true,
			[]string{"application/problem+json;q=0.9, application/json;q=0.8"}, true, problemCT},
		{"tracked, json preferred", problem.EnvelopeTracked, true,
			[]string{"application/problem+json;q=0.5, application/json"}, false, jsonCT},
		{"google, json", problem.EnvelopeGoogle, true, []string{"application/json"}, false, jsonCT},
		{"google, no Accept", problem.EnvelopeGoogle, true, nil, false, jsonCT},
		{"google, */*", problem.EnvelopeGoogle, true, []string{"*/*"}, false, jsonCT},
		{"google, equal weights", problem.EnvelopeGoogle, true, []string{"application/json, application/problem+json"}, false, jsonCT},
		{"google, problem+json in a second field", problem.EnvelopeGoogle, true,
			[]string{"text/html;q=0.1", "APPLICATION/PROBLEM+JSON"}, true, problemCT},
		{"problem, json only", problem.EnvelopeProblem, true, []string{"application/json"}, true, jsonCT},
		{"problem, json, problem+json refused", problem.EnvelopeProblem, true,
			[]string{"application/problem+json;q=0, application/*"}, true, jsonCT},
		{"problem, problem+json", problem.EnvelopeProblem, true, []string{"application/problem+json"}, true, problemCT},
		{"problem, json preferred, problem+json accepted", problem.EnvelopeProblem, true,
			[]string{"application/json, application/problem+json;q=0.5"}, true, problemCT},
		{"problem, neither acceptable", problem.EnvelopeProblem, true, []string{"text/html"}, true, problemCT},
		{"problem, malformed Accept", problem.EnvelopeProblem, true, []string{`application/json;q=2, ;;"`}, true, problemCT},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := negotiated(t, tc.env, tc.negotiate, tc.accept...)
			assert.Equal(t, http.StatusNotFound, rec.Code, "status")
			assert.Equal(t, tc.wantCT, rec.Header().Get("Content-Type"), "Write(Accept %q) Content-Type", tc.accept)
			assert.Equal(t, tc.wantProblem, isProblemBody(t, rec.Body.Bytes()), "Write(Accept %q) is a problem body: %s", tc.accept, rec.Body)
			if tc.negotiate {
				assert.Equal(t, []string{"Accept"}, rec.Header().Values("Vary"), "Vary of a negotiated response")
			} else {
				assert.Empty(t, rec.Header().Values("Vary"), "Vary without negotiation")
			}
		})
	}
}

// TestNegotiationJSONOnlyNeverGetsProblemJSON holds every envelope to the
// promise: a client that accepts only application/json never gets
// application/problem+json.
func TestNegotiationJSONOnlyNeverGetsProblemJSON(t *testing.T) {
	for _, env := range allEnvelopes {
		for _, accept := range []string{"application/json", "application/json;charset=utf-8", "Application/JSON;q=0.4"} {
			rec := negotiated(t, env, true, accept)
			assert.Equal(t, problem.ContentTypeJSON, rec.Header().Get("Content-Type"), "%s: Write(Accept %q) Content-Type", env, accept)
		}
	}
}

func TestNegotiationKeepsVary(t *testing.T) {
	rd, _ := newRenderer(t, problem.Config{Negotiate: true}, slog.LevelInfo)
	rec := httptest.NewRecorder()
	rec.Header().Set("Vary", "Origin")
	rd.Write(rec, httptest.NewRequest(http.MethodGet, "/x", nil), notFound())
	assert.Equal(t, []string{"Origin", "Accept"}, rec.Header().Values("Vary"), "Vary after negotiation")
}

func TestNegotiateFromEnv(t *testing.T) {
	for _, tc := range []struct {
		value   string
		want    bool
		wantErr bool
	}{{"true", true, false}, {"0", false, false}, {"yes", false, true}} {
		env := map[string]string{problem.EnvNegotiate: tc.value}
		cfg, err := problem.ConfigFromEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
		if tc.wantErr {
			assert.ErrorIs(t, err, problem.ErrInvalidConfig, "ConfigFromEnv(%s=%q)", problem.EnvNegotiate, tc.value)
			continue
		}
		assert.NoError(t, err, "ConfigFromEnv(%s=%q)", problem.EnvNegotiate, tc.value)
		assert.Equal(t, tc.want, cfg.Negotiate, "ConfigFromEnv(%s=%q).Negotiate", problem.EnvNegotiate, tc.value)
	}
	env := map[string]string{problem.EnvDocLinks: "true", problem.EnvTypeBaseURI: "https://errors.example.com"}
	cfg, err := problem.ConfigFromEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	assert.NoError(t, err, "ConfigFromEnv(%s=true)", problem.EnvDocLinks)
	assert.True(t, cfg.DocLinks, "ConfigFromEnv(%s=true).DocLinks", problem.EnvDocLinks)
}
