package ratelimit_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/go-chi/chi/v5"
	chimw "github.com/go-chi/chi/v5/middleware"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/middleware"
	"github.com/faultline-go/faultline/problem"
	"github.com/faultline-go/faultline/ratelimit"
)

// ClientKey is the principal's key id, else the client IP chi's ClientIP
// middleware trusted, else the TCP peer's host; X-Forwarded-For alone is
// never read.
func TestClientKey(t *testing.T) {
	keys, err := middleware.NewStaticKeys(middleware.KeyPair{Key: "key-1", Secret: "secret-1"})
	require.NoError(t, err, "NewStaticKeys")
	for _, tc := range []struct {
		name       string
		mw         func(http.Handler) http.Handler
		remoteAddr string
		header     map[string]string
		want       string
	}{
		{"principal", middleware.KeyAuth(keys), "192.0.2.1:1234", nil, "key-1"},
		{"trusted proxy", chimw.ClientIPFromXFF("10.0.0.0/8"), "10.0.0.1:1234", map[string]string{"X-Forwarded-For": "203.0.113.7"}, "203.0.113.7"},
		{"untrusted X-Forwarded-For", nil, "192.0.2.1:1234", map[string]string{"X-Forwarded-For": "203.0.113.7"}, "192.0.2.1"},
		{"IPv6 peer", nil, "[2001:db8::1]:443", nil, "2001:db8::1"},
		{"peer without a port", nil, "pipe", nil, "pipe"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got string
			var h http.Handler = http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got = ratelimit.ClientKey(r) })
			if tc.mw != nil {
				h = tc.mw(h)
			}
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.RemoteAddr = tc.remoteAddr
			req.SetBasicAuth("key-1", "secret-1") // read only by KeyAuth
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			h.ServeHTTP(httptest.NewRecorder(), req)
			assert.Equal(t, tc.want, got, "ClientKey(%s)", tc.name)
		})
	}
}

// keyedStack is a chi stack with KeyAuth in front of the limiter for the
// sandbox key pairs alice, carol and bob (bob on the gold plan), and dave
// in production.
func keyedStack(t *testing.T, lim *ratelimit.Limiter) http.Handler {
	keys, err := middleware.NewStaticKeys(
		middleware.KeyPair{Key: "alice", Secret: "alice-secret", Environment: "sandbox"},
		middleware.KeyPair{Key: "carol", Secret: "carol-secret", Environment: "sandbox"},
		middleware.KeyPair{Key: "bob", Secret: "bob-secret", Environment: "sandbox", Plan: "gold"},
		middleware.KeyPair{Key: "dave", Secret: "dave-secret", Environment: "production"},
	)
	require.NoError(t, err, "NewStaticKeys() error = %v", err)
	r := chi.NewRouter()
	r.Use(middleware.RequestID, middleware.Recover(renderer(problem.EnvelopeProblem)), middleware.KeyAuth(keys), lim.Handler)
	r.Get("/v1/ping", okHandler)
	r.With(lim.Route("reports", reportsPolicy)).Get("/v1/reports", okHandler)
	return r
}

func TestLimiterPrincipalKeys(t *testing.T) {
	gold := ratelimit.Policy{Rate: 50, Burst: 50} // named by its plan
	lim := newLimiter(t, ratelimit.Config{Store: newSteppedStore(t), Plans: map[string]ratelimit.Policy{"gold": gold}})
	h := keyedStack(t, lim)

	// alice and carol share an IP but not a bucket.
	for i := 0; i < 10; i++ {
		rec := serve(h, http.MethodGet, "/v1/ping", basicAuth("alice", "alice-secret"))
		require.Equal(t, http.StatusOK, rec.Code, "alice request %d: status = %d, want 200", i+1, rec.Code)
	}
	rec := serve(h, http.MethodGet, "/v1/ping", basicAuth("alice", "alice-secret"))
	assert.Equal(t, "sandbox", refusedPolicy(t, problem.EnvelopeProblem, rec), "alice's 11th request: refused policy")
	rec = serve(h, http.MethodGet, "/v1/ping", basicAuth("carol", "carol-secret"))
	require.Equal(t, http.StatusOK, rec.Code, "carol: status = %d, want 200 (a bucket of her own)", rec.Code)
	assert.Equal(t, 9, remaining(t, rec, "sandbox"), "carol: sandbox r")

	// dave's production environment picks the production preset.
	rec = serve(h, http.MethodGet, "/v1/ping", basicAuth("dave", "dave-secret"))
	require.Equal(t, http.StatusOK, rec.Code, "dave: status = %d, want 200", rec.Code)
	assert.Equal(t, `"production";q=25;w=1`, rec.Header().Get(ratelimit.HeaderRateLimitPolicy), "dave: RateLimit-Policy")
	assert.Equal(t, 24, remaining(t, rec, "production"), "dave: production r")

	// bob's plan replaces his environment's policy.
	rec = serve(h, http.MethodGet, "/v1/ping", basicAuth("bob", "bob-secret"))
	require.Equal(t, http.StatusOK, rec.Code, "bob: status = %d, want 200", rec.Code)
	assert.Equal(t, `"gold";q=50;w=1`, rec.Header().Get(ratelimit.HeaderRateLimitPolicy), "bob: RateLimit-Policy")
	assert.Equal(t, `"gold";r=49;t=1`, rec.Header().Get(ratelimit.HeaderRateLimit), "bob: RateLimit")
	rec = serve(h, http.MethodGet, "/v1/reports", basicAuth("bob", "bob-secret"))
	require.Equal(t, http.StatusOK, rec.Code, "bob reports: status = %d, want 200", rec.Code)
	assert.Equal(t, `"gold";q=50;w=1, "reports";q=2;w=1`, rec.Header().Get(ratelimit.HeaderRateLimitPolicy), "bob reports: RateLimit-Policy")
	assert.Equal(t, `"gold";r=48;t=1, "reports";r=1;t=1`, rec.Header().Get(ratelimit.HeaderRateLimit), "bob reports: RateLimit")
	rec = serve(h, http.MethodGet, "/v1/reports", basicAuth("bob", "bob-secret"))
	require.Equal(t, http.StatusOK, rec.Code, "bob reports: status = %d, want 200", rec.Code)
	rec = serve(h, http.MethodGet, "/v1/reports", basicAuth("bob", "bob-secret"))
	assert.Equal(t, "reports", refusedPolicy(t, problem.EnvelopeProblem, rec), "bob's third report: refused policy")
	assert.Equal(t, 47, remaining(t, rec, "gold"), "bob's refused report: gold r = %d, want 47 (no token used)", remaining(t, rec, "gold"))
}

func TestLimiterClientIPKeys(t *testing.T) {
	tests := []struct {
		name      string
		mw        []func(http.Handler) http.Handler
		first     []func(*http.Request)
		second    []func(*http.Request)
		wantSame  bool
		wantAfter int // sandbox r of the second request
	}{
		{"RemoteAddr fallback: same host, another port", nil,
			[]func(*http.Request){fromAddr("192.0.2.1:1000")}, []func(*http.Request){fromAddr("192.0.2.1:2000")}, true, 8},
		{"RemoteAddr fallback: no port", nil,
			[]func(*http.Request){fromAddr("192.0.2.1:1000")}, []func(*http.Request){fromAddr("192.0.2.1")}, true, 8},
		{"RemoteAddr fallback: another host", nil,
			[]func(*http.Request){fromAddr("192.0.2.1:1000")}, []func(*http.Request){fromAddr("192.0.2.2:1000")}, false, 9},
		{"RemoteAddr fallback: v4-mapped v6 is another key", nil,
			[]func(*http.Request){fromAddr("192.0.2.1:1000")}, []func(*http.Request){fromAddr("[::ffff:192.0.2.1]:1000")}, false, 9},
		{"ClientIPFromRemoteAddr folds v4-mapped v6", []func(http.Handler) http.Handler{chimw.ClientIPFromRemoteAddr},
			[]func(*http.Request){fromAddr("192.0.2.1:1000")}, []func(*http.Request){fromAddr("[::ffff:192.0.2.1]:1000")}, true, 8},
		{"X-Forwarded-For is not read", nil,
			[]func(*http.Request){fromAddr("192.0.2.1:1000"), withHeader("X-Forwarded-For", "203.0.113.1")},
			[]func(*http.Request){fromAddr("192.0.2.1:1000"), withHeader("X-Forwarded-For", "203.0.113.2")}, true, 8},
		{"X-Forwarded-For under ClientIPFromRemoteAddr is not read", []func(http.Handler) http.Handler{chimw.ClientIPFromRemoteAddr},
			[]func(*http.Request){fromAddr("192.0.2.1:1000"), withHeader("X-Forwarded-For", "203.0.113.1")},
			[]func(*http.Request){fromAddr("192.0.2.1:1000"), withHeader("X-Forwarded-For", "203.0.113.2")}, true, 8},
		{"X-Forwarded-For from a trusted proxy under ClientIPFromXFF", []func(http.Handler) http.Handler{chimw.ClientIPFromXFF("192.0.2.0/24")},
			[]func(*http.Request){fromAddr("192.0.2.1:1000"), withHeader("X-Forwarded-For", "203.0.113.1")},
			[]func(*http.Request){fromAddr("192.0.2.1:1000"), withHeader("X-Forwarded-For", "203.0.113.2")}, false, 9},
		{"X-Forwarded-For from an untrusted peer under ClientIPFromXFF", []func(http.Handler) http.Handler{chimw.ClientIPFromXFF("10.0.0.0/8")},
			[]func(*http.Request){fromAddr("192.0.2.1:1000"), withHeader("X-Forwarded-For", "203.0.113.1")},
			[]func(*http.Request){fromAddr("192.0.2.1:1000"), withHeader("X-Forwarded-For", "203.0.113.2")}, true, 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lim := newLimiter(t, ratelimit.Config{Store: newSteppedStore(t)})
			r := chi.NewRouter()
			r.Use(middleware.RequestID, middleware.Recover(renderer(problem.EnvelopeFlat)))
			r.Use(tt.mw...)
			r.Use(lim.Handler)
			r.Get("/v1/ping", okHandler)
			rec := serve(r, http.MethodGet, "/v1/ping", tt.first...)
			require.Equal(t, 9, remaining(t, rec, "sandbox"), "first request: sandbox r")
			rec = serve(r, http.MethodGet, "/v1/ping", tt.second...)
			assert.Equal(t, tt.wantAfter, remaining(t, rec, "sandbox"), "second request: sandbox r = %d, want %d (same bucket: %v)", remaining(t, rec, "sandbox"), tt.wantAfter, tt.wantSame)
		})
	}
}

func TestLimiterXForwardedForSpoofing(t *testing.T) {
	lim := newLimiter(t, ratelimit.Config{Store: newSteppedStore(t)})
	h := chiStack(problem.EnvelopeFlat, lim, nil)
	for i := 0; i < 10; i++ {
		rec := serve(h, http.MethodGet, "/v1/ping", withHeader("X-Forwarded-For", "198.51.100."+strconv.Itoa(i)))
		require.Equal(t, http.StatusOK, rec.Code, "request %d: status = %d, want 200", i+1, rec.Code)
	}
	rec := serve(h, http.MethodGet, "/v1/ping", withHeader("X-Forwarded-For", "198.51.100.200"), withHeader("X-Real-Ip", "198.51.100.201"))
	assert.Equal(t, http.StatusTooManyRequests, rec.Code, "11th request with a new X-Forwarded-For: status = %d, want 429", rec.Code)
}

func TestLimiterCustomKey(t *testing.T) {
	lim := newLimiter(t, ratelimit.Config{Store: newSteppedStore(t), Key: func(r *http.Request) string { return r.Header.Get("X-Tenant") }})
	h := chiStack(problem.EnvelopeFlat, lim, nil)
	rec := serve(h, http.MethodGet, "/v1/ping", withHeader("X-Tenant", "a"), fromAddr("192.0.2.1:1"))
	assert.Equal(t, 9, remaining(t, rec, "sandbox"), "tenant a: sandbox r")
	rec = serve(h, http.MethodGet, "/v1/ping", withHeader("X-Tenant", "a"), fromAddr("192.0.2.2:1"))
	assert.Equal(t, 8, remaining(t, rec, "sandbox"), "tenant a from another IP: sandbox r")
	rec = serve(h, http.MethodGet, "/v1/ping", withHeader("X-Tenant", "b"), fromAddr("192.0.2.1:1"))
	assert.Equal(t, 9, remaining(t, rec, "sandbox"), "tenant b: sandbox r")
}
