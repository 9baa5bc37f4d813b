package main

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/catalog"
	"github.com/faultline-go/faultline/client"
	"github.com/faultline-go/faultline/problem"
)

// clientEnvelopes are the envelopes the client is tested against: the four
// of the other end-to-end tests and google-strict.
var clientEnvelopes = slices.Concat(envelopes, []string{problem.EnvelopeGoogleStrict})

// demoErrorDomain is the error domain the client tests give the demo, which
// google-strict needs and the other envelopes ignore.
const demoErrorDomain = "orders.example.com"

// withDomain wraps edit to give the demo demoErrorDomain first.
func withDomain(edit func(*serverConfig)) func(*serverConfig) {
	return func(cfg *serverConfig) {
		cfg.Problem.ErrorDomain = demoErrorDomain
		if edit != nil {
			edit(cfg)
		}
	}
}

// startDemo is startServer with demoErrorDomain.
func startDemo(t *testing.T, envelope string, maintenance bool) *testServer {
	t.Helper()
	return startServerWith(t, envelope, withDomain(func(cfg *serverConfig) {
		cfg.Maintenance = maintenance
		// Far above what a test sends: the rate limit tests set their own.
		cfg.Rate = 1_000_000
	}))
}

// TestClientDecodesDemoGoogleStrict decodes the demo's google-strict
// answers field by field: the reason and domain of the ErrorInfo, the
// BadRequest violations, the RequestInfo id, the exc_ id of a sanitized
// 500 and the RetryInfo delay of a 429.
func TestClientDecodesDemoGoogleStrict(t *testing.T) {
	symbol := client.Violation{Field: "symbol", Reason: catalog.MissingField, Description: "Missing required field: symbol."}
	cases := []struct {
		name         string
		method, path string
		body         string
		status       int
		code         string
		violations   []client.Violation
		exc          bool
	}{
		{"validation", "POST", "/v1/orders", `{"quantity":5}`, 400, catalog.MissingField, []client.Violation{symbol}, false},
		{"not found", "GET", "/v1/accounts/acc_2", "", 404, catalog.NotFound, nil, false},
		{"sanitized 500", "GET", "/v1/fail", "", 500, catalog.Internal, nil, true},
	}
	s := startDemo(t, problem.EnvelopeGoogleStrict, false)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, resp := decodeDemo(t, s, client.Decoder{}, s.request(t, tc.method, tc.path, tc.body, nil))
			where := tc.method + " " + tc.path
			assert.Equal(t, tc.status, e.Status, "%s: Status", where)
			assert.Equal(t, client.EnvelopeGoogleStrict, e.Envelope, "%s: Envelope", where)
			assert.Equal(t, tc.code, e.Code, "%s: Code = %q, want %q", where, e.Code, tc.code)
			assert.Equal(t, tc.code, e.Reason, "%s: Reason = %q, want %q", where, e.Reason, tc.code)
			assert.Equal(t, demoErrorDomain, e.Domain, "%s: Domain = %q, want %q", where, e.Domain, demoErrorDomain)
			assert.Equal(t, tc.violations, e.Violations, "%s: Violations", where)
			assert.Equal(t, resp.Header.Get(problem.HeaderRequestID), e.RequestID, "%s: RequestID, want the X-Request-Id header", where)
			assert.False(t, e.HasRetryAfter, "%s: HasRetryAfter", where)
			if !tc.exc {
				assert.Empty(t, e.ExcID, "%s: ExcID", where)
				assert.Empty(t, e.Metadata, "%s: Metadata", where)
				return
			}
			assert.Regexp(t, "^"+excIDPattern.String()+"$", e.ExcID, "%s: ExcID", where)
			assert.Empty(t, e.Metadata, "%s: Metadata, want exc_id in ExcID only", where)
			rec := s.logs.find(t, "exc_id", e.ExcID)
			require.NotNil(t, rec, "%s: no log record has exc_id %s", where, e.ExcID)
			assert.Equal(t, e.RequestID, rec["request_id"], "%s: the log record of %s has another request id", where, e.ExcID)
		})
	}
	t.Run("rate limited", func(t *testing.T) {
		s := startLimited(t, problem.EnvelopeGoogleStrict, withDomain(func(cfg *serverConfig) { cfg.Rate = 1 }))
		s.do(t, "GET", "/v1/accounts/acc_1", "", nil)
		resp, err := s.client.Do(s.request(t, "GET", "/v1/accounts/acc_1", "", nil))
		require.NoError(t, err)
		require.Equal(t, "1", resp.Header.Get(problem.HeaderRetryAfter), "429 Retry-After")
		// Without the header, the delay can only come from RetryInfo.
		resp.Header.Del(problem.HeaderRetryAfter)
		var e *client.Error
		require.ErrorAs(t, client.Decode(resp), &e, "Decode(429)")
		assert.Equal(t, 429, e.Status, "429: Status")
		assert.Equal(t, catalog.ResourceExhausted, e.Code, "429: Code")
		assert.Equal(t, catalog.ResourceExhausted, e.Reason, "429: Reason")
		assert.Equal(t, demoErrorDomain, e.Domain, "429: Domain")
		assert.Equal(t, "sandbox", e.Metadata["policy"], "429: Metadata[policy]")
		assert.Equal(t, resp.Header.Get(problem.HeaderRequestID), e.RequestID, "429: RequestID")
		assert.Empty(t, e.ExcID, "429: ExcID")
		assert.True(t, e.HasRetryAfter, "429: HasRetryAfter from RetryInfo")
		assert.Equal(t, time.Second, e.RetryAfter, "429: RetryAfter = %v, want 1s from RetryInfo", e.RetryAfter)
		assert.True(t, e.Retryable, "429: Retryable")
	})
}
