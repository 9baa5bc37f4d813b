package ratelimit_test

import (
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/faultline-go/faultline/middleware"
	"github.com/faultline-go/faultline/problem"
	"github.com/faultline-go/faultline/ratelimit"
)

func TestLimiterSandboxHeadersAndRefusal(t *testing.T) {
	for _, env := range allEnvelopes {
		t.Run(env, func(t *testing.T) {
			store := newSteppedStore(t)
			lim := newLimiter(t, ratelimit.Config{Store: store})
			h := chiStack(env, lim, nil)
			for i := 0; i < 10; i++ {
				rec := serve(h, http.MethodGet, "/v1/ping")
				require.Equal(t, http.StatusOK, rec.Code, "request %d: status = %d, want 200", i+1, rec.Code)
				got := rec.Header().Get(ratelimit.HeaderRateLimitPolicy)
				assert.Equal(t, `"sandbox";q=10;w=1`, got, "request %d: RateLimit-Policy = %q", i+1, got)
				want := `"sandbox";r=` + strconv.Itoa(9-i) + `;t=1`
				got = rec.Header().Get(ratelimit.HeaderRateLimit)
				assert.Equal(t, want, got, "request %d: RateLimit = %q, want %q", i+1, got, want)
				assert.Empty(t, rec.Header().Get(ratelimit.HeaderRetryAfter), "request %d: Retry-After on a 200", i+1)
			}
			rec := serve(h, http.MethodGet, "/v1/ping")
			assert.Equal(t, "sandbox", refusedPolicy(t, env, rec), "refused policy, want sandbox")
			assert.NotEmpty(t, rec.Header().Get(middleware.HeaderRequestID), "429 without X-Request-Id")
			assert.Equal(t, `"sandbox";q=10;w=1`, rec.Header().Get(ratelimit.HeaderRateLimitPolicy), "429 RateLimit-Policy")
			items := parseList(t, rec.Header().Get(ratelimit.HeaderRateLimit))
			require.Len(t, items, 1, "429 RateLimit = %q, want one item", rec.Header().Get(ratelimit.HeaderRateLimit))
			assert.Equal(t, 0, items[0].params["r"], "429 RateLimit r = %d, want 0", items[0].params["r"])
			ra := retryAfter(t, rec)
			assert.LessOrEqual(t, ra, items[0].params["t"], "Retry-After = %d, want <= t = %d", ra, items[0].params["t"])
			// One token 100ms later.
			store.advance(100 * time.Millisecond)
			rec = serve(h, http.MethodGet, "/v1/ping")
			assert.Equal(t, http.StatusOK, rec.Code, "status after 100ms = %d, want 200", rec.Code)
			assert.Equal(t, 0, remaining(t, rec, "sandbox"), "r after 100ms, want 0")
		})
	}
}

// TestLimiterRealClock uses the limiter's own MemoryStore. The policy
// refills once a minute, so the test cannot race the clock.
func TestLimiterRealClock(t *testing.T) {
	lim := newLimiter(t, ratelimit.Config{Policy: ratelimit.Policy{Name: "minute", Rate: rate.Every(time.Minute), Burst: 3}})
	h := chiStack(problem.EnvelopeProblem, lim, nil)
	for i := 0; i < 3; i++ {
		rec := serve(h, http.MethodGet, "/v1/ping")
		require.Equal(t, http.StatusOK, rec.Code, "request %d: status = %d, want 200", i+1, rec.Code)
		assert.Equal(t, 2-i, remaining(t, rec, "minute"), "request %d: r", i+1)
	}
	rec := serve(h, http.MethodGet, "/v1/ping")
	assert.Equal(t, "minute", refusedPolicy(t, problem.EnvelopeProblem, rec), "refused policy")
	ra := retryAfter(t, rec)
	assert.InDelta(t, 60, ra, 1, "Retry-After = %d, want about 60", ra)
	assert.Equal(t, `"minute";q=3;w=180`, rec.Header().Get(ratelimit.HeaderRateLimitPolicy), "RateLimit-Policy")
	assert.Equal(t, "minute", lim.DefaultPolicy().Name, "DefaultPolicy().Name")
	require.NoError(t, lim.Close(), "Close() = non-nil")
	require.NoError(t, lim.Close(), "second Close() = non-nil")
}

func TestLimiterPolicies(t *testing.T) {
	tests := []struct {
		name       string
		cfg        ratelimit.Config
		wantPolicy string
		wantBurst  int
	}{
		{"production", ratelimit.Config{Environment: ratelimit.EnvProduction}, `"production";q=25;w=1`, 25},
		{"sandbox", ratelimit.Config{Environment: ratelimit.EnvSandbox}, `"sandbox";q=10;w=1`, 10},
		{"Policy override", ratelimit.Config{Environment: ratelimit.EnvProduction, Policy: ratelimit.Policy{Name: "custom", Rate: 1, Burst: 3}}, `"custom";q=3;w=3`, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Store = newSteppedStore(t)
			lim := newLimiter(t, tt.cfg)
			h := chiStack(problem.EnvelopeFlat, lim, nil)
			for i := 0; i < tt.wantBurst; i++ {
				rec := serve(h, http.MethodGet, "/v1/ping")
				require.Equal(t, http.StatusOK, rec.Code, "request %d: status = %d, want 200", i+1, rec.Code)
				got := rec.Header().Get(ratelimit.HeaderRateLimitPolicy)
				require.Equal(t, tt.wantPolicy, got, "request %d: RateLimit-Policy = %q, want %q", i+1, got, tt.wantPolicy)
			}
			rec := serve(h, http.MethodGet, "/v1/ping")
			assert.Equal(t, http.StatusTooManyRequests, rec.Code, "request %d: status = %d, want 429", tt.wantBurst+1, rec.Code)
		})
	}
}

func TestLimiterLegacyHeaders(t *testing.T) {
	store := newSteppedStore(t)
	lim := newLimiter(t, ratelimit.Config{Store: store, LegacyHeaders: true})
	h := chiStack(problem.EnvelopeFlat, lim, func(r chi.Router) {
		r.With(lim.Route("reports", ratelimit.Policy{Rate: 0.5, Burst: 2})).Get("/v1/reports", okHandler)
	})
	tests := []struct {
		path                      string
		wantCode                  int
		wantLimit, wantRem, wantT string
	}{
		{"/v1/ping", 200, "10", "9", "1"},
		{"/v1/ping", 200, "10", "8", "1"},
		// reports has the fewest tokens left: 1, full again in 2s.
		{"/v1/reports", 200, "2", "1", "2"},
		{"/v1/reports", 200, "2", "0", "4"},
		{"/v1/reports", 429, "2", "0", "4"},
	}
	for i, tt := range tests {
		rec := serve(h, http.MethodGet, tt.path)
		require.Equal(t, tt.wantCode, rec.Code, "request %d (%s): status = %d, want %d", i+1, tt.path, rec.Code, tt.wantCode)
		hd := rec.Header()
		assert.Equal(t, tt.wantLimit, hd.Get(ratelimit.HeaderXRateLimitLimit), "request %d: X-RateLimit-Limit", i+1)
		assert.Equal(t, tt.wantRem, hd.Get(ratelimit.HeaderXRateLimitRemaining), "request %d: X-RateLimit-Remaining", i+1)
		assert.Equal(t, tt.wantT, hd.Get(ratelimit.HeaderXRateLimitReset), "request %d: X-RateLimit-Reset", i+1)
	}
	// Without LegacyHeaders, none of them.
	plain := chiStack(problem.EnvelopeFlat, newLimiter(t, ratelimit.Config{Store: newSteppedStore(t)}), nil)
	rec := serve(plain, http.MethodGet, "/v1/ping")
	for _, k := range []string{ratelimit.HeaderXRateLimitLimit, ratelimit.HeaderXRateLimitRemaining, ratelimit.HeaderXRateLimitReset} {
		assert.Empty(t, rec.Header().Values(k), "%s = %q without LegacyHeaders, want none", k, rec.Header().Values(k))
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name    string
		cfg     ratelimit.Config
		wantIs  error
		wantMsg string
	}{
		{"unknown environment", ratelimit.Config{Environment: "staging"}, ratelimit.ErrUnknownEnvironment, "staging"},
		{"invalid policy", ratelimit.Config{Policy: ratelimit.Policy{Name: "p", Rate: 1}}, ratelimit.ErrInvalidPolicy, "burst"},
		{"negative FallbackShare", ratelimit.Config{Outage: ratelimit.FallBack, FallbackShare: -0.5}, nil, "FallbackShare"},
		{"FallbackShare above 1", ratelimit.Config{Outage: ratelimit.FallBack, FallbackShare: 1.5}, nil, "FallbackShare"},
		{"NaN FallbackShare", ratelimit.Config{Outage: ratelimit.FallBack, FallbackShare: math.NaN()}, nil, "FallbackShare"},
		{"infinite FallbackShare", ratelimit.Config{FallbackShare: math.Inf(1)}, nil, "FallbackShare"},
		{"unknown Outage", ratelimit.Config{Outage: ratelimit.Outage(7)}, nil, "Outage"},
		{"negative Outage", ratelimit.Config{Outage: ratelimit.Outage(-1)}, nil, "Outage"},
		{"invalid plan", ratelimit.Config{Plans: map[string]ratelimit.Policy{"gold": {Rate: 1}}}, ratelimit.ErrInvalidPolicy, `Config.Plans["gold"]`},
		{"invalid plan name", ratelimit.Config{Plans: map[string]ratelimit.Policy{"gold plan": {Rate: 1, Burst: 1}}}, ratelimit.ErrInvalidPolicy, `gold plan`},
		{"invalid environment policy", ratelimit.Config{Environments: map[string]ratelimit.Policy{"sandbox": {Rate: -1, Burst: 1}}}, ratelimit.ErrInvalidPolicy, `Config.Environments["sandbox"]`},
		{"negative BreakerFailures", ratelimit.Config{BreakerFailures: -1}, ratelimit.ErrInvalidConfig, "BreakerFailures"},
		{"negative BreakerProbe", ratelimit.Config{BreakerProbe: -time.Second}, ratelimit.ErrInvalidConfig, "BreakerProbe"},
		{"negative OutageRetryAfter", ratelimit.Config{OutageRetryAfter: -time.Second}, ratelimit.ErrInvalidConfig, "OutageRetryAfter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lim, err := ratelimit.New(tt.cfg)
			require.Error(t, err, "New(%+v) = %v, nil, want an error", tt.cfg, lim)
			assert.Nil(t, lim, "New(%+v) limiter = %v, want nil with an error", tt.cfg, lim)
			if tt.wantIs != nil {
				assert.True(t, errors.Is(err, tt.wantIs), "New(%+v) error = %v, want %v", tt.cfg, err, tt.wantIs)
			}
			assert.Contains(t, err.Error(), tt.wantMsg, "New(%+v) error = %q, want it to name %q", tt.cfg, err, tt.wantMsg)
			assert.True(t, strings.HasPrefix(err.Error(), "ratelimit: "), "New(%+v) error = %q, want a \"ratelimit: \" prefix", tt.cfg, err)
			assert.Panics(t, func() { ratelimit.MustNew(tt.cfg) }, "MustNew(%+v) did not panic", tt.cfg)
		})
	}
	t.Run("valid", func(t *testing.T) {
		lim := ratelimit.MustNew(ratelimit.Config{Outage: ratelimit.FallBack, FallbackShare: 1})
		assert.NoError(t, lim.Close(), "Close() error")
		assert.NoError(t, lim.Close(), "second Close() error")
	})
}

func TestLimit(t *testing.T) {
	h := ratelimit.Limit(2)(okHandler)
	for i := 0; i < 2; i++ {
		rec := serve(h, http.MethodGet, "/")
		require.Equal(t, http.StatusOK, rec.Code, "request %d: status = %d, want 200", i+1, rec.Code)
		assert.Equal(t, `"default";q=2;w=1`, rec.Header().Get(ratelimit.HeaderRateLimitPolicy), "request %d: RateLimit-Policy", i+1)
	}
	// No renderer in the context: the default (problem) one answers.
	rec := serve(h, http.MethodGet, "/")
	assert.Equal(t, "default", refusedPolicy(t, problem.EnvelopeProblem, rec), "third request: refused policy")
	assert.Equal(t, problem.ContentTypeProblem, rec.Header().Get("Content-Type"), "Content-Type")
}
