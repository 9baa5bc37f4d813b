package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/problem"
)

func TestServerRequestID(t *testing.T) {
	tests := []struct {
		name   string
		sent   string // "" sends no header
		echoed bool
	}{
		{"none", "", false},
		{"valid", "req-42_abc.DEF:7", true},
		{"128 characters", strings.Repeat("r", 128), true},
		{"129 characters", strings.Repeat("r", 129), false},
		{"space", "req 42", false},
		{"slash", "req/42", false},
		{"quote", `req"42`, false},
	}
	paths := []struct {
		name   string
		method string
		path   string
		status int
	}{
		{"success", "GET", "/healthz", 200},
		{"handler error", "GET", "/v1/accounts/acc_2", 404},
		{"not found", "GET", "/nope", 404},
		{"method not allowed", "PUT", "/healthz", 405},
		{"panic", "GET", "/v1/panic", 500},
		{"timeout", "GET", "/v1/slow?ms=3000", 504},
	}
	for _, envelope := range envelopes {
		t.Run(envelope, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, envelope, false)
			for _, tt := range tests {
				for _, p := range paths {
					t.Run(tt.name+"/"+p.name, func(t *testing.T) {
						var header map[string]string
						if tt.sent != "" {
							header = map[string]string{problem.HeaderRequestID: tt.sent}
						}
						resp, body := s.do(t, p.method, p.path, "", header)
						require.Equal(t, p.status, resp.StatusCode, "%s %s status; body %s", p.method, p.path, body)
						id := resp.Header.Get(problem.HeaderRequestID)
						assert.Len(t, resp.Header.Values(problem.HeaderRequestID), 1, "%s %s: X-Request-Id values", p.method, p.path)
						if tt.echoed {
							assert.Equal(t, tt.sent, id, "%s %s X-Request-Id = %q, want the incoming %q", p.method, p.path, id, tt.sent)
						} else {
							assert.Regexp(t, uuidPattern, id, "%s %s X-Request-Id = %q, want a new UUID", p.method, p.path, id)
						}
						if p.status >= 400 {
							got := s.parseError(t, resp, body) // checks the body id against the header
							if envelope == problem.EnvelopeTracked || envelope == problem.EnvelopeProblem {
								assert.Equal(t, id, got.RequestID, "%s %s body request_id", p.method, p.path)
							}
						}
					})
				}
			}

			t.Run("distinct", func(t *testing.T) {
				seen := map[string]bool{}
				for range 20 {
					resp, _ := s.do(t, "GET", "/v1/accounts/acc_2", "", nil)
					id := resp.Header.Get(problem.HeaderRequestID)
					assert.False(t, seen[id], "X-Request-Id %q given twice", id)
					seen[id] = true
				}
			})
		})
	}
}
