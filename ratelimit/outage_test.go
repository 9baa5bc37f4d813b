package ratelimit_test

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/faultline-go/faultline/problem"
	"github.com/faultline-go/faultline/ratelimit"
)

var errStoreDown = errors.New("redis: connection refused")

func TestLimiterOutage(t *testing.T) {
	t.Run("FailOpen", func(t *testing.T) {
		logs := &recordingHandler{}
		// BreakerFailures 100: every request asks the store and fails.
		lim := newLimiter(t, ratelimit.Config{Store: failingStore{errStoreDown}, Outage: ratelimit.FailOpen, BreakerFailures: 100, Logger: slog.New(logs)})
		h := chiStack(problem.EnvelopeProblem, lim, nil)
		for i := 0; i < 20; i++ {
			rec := serve(h, http.MethodGet, "/v1/ping")
			require.Equal(t, http.StatusOK, rec.Code, "request %d: status = %d, want 200 (fail open)", i+1, rec.Code)
			// Nothing was decided or enforced: nothing is advertised.
			assert.Empty(t, rec.Header().Values(ratelimit.HeaderRateLimitPolicy), "request %d: RateLimit-Policy = %q, want none", i+1, rec.Header().Values(ratelimit.HeaderRateLimitPolicy))
			assert.Empty(t, rec.Header().Values(ratelimit.HeaderRateLimit), "request %d: RateLimit = %q, want none without a decision", i+1, rec.Header().Values(ratelimit.HeaderRateLimit))
		}
		recs := logs.records()
		require.Len(t, recs, 1, "log records = %d, want 1 (at most one per second)", len(recs))
		assert.Equal(t, slog.LevelWarn, recs[0].Level, "log level")
		a := attrs(recs[0])
		assert.Equal(t, "fail-open", a["outage"], "outage attr")
		assert.Equal(t, errStoreDown.Error(), a["error"], "error attr")
	})

	t.Run("FailClosed", func(t *testing.T) {
		tests := []struct {
			name       string
			retryAfter time.Duration
			want       string
		}{
			{"default Retry-After", 0, "1"},
			{"OutageRetryAfter 2.5s", 2500 * time.Millisecond, "3"},
			{"OutageRetryAfter 30s", 30 * time.Second, "30"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				lim := newLimiter(t, ratelimit.Config{Store: failingStore{errStoreDown}, Outage: ratelimit.FailClosed, OutageRetryAfter: tt.retryAfter})
				for _, env := range allEnvelopes {
					rec := serve(chiStack(env, lim, nil), http.MethodGet, "/v1/ping")
					require.Equal(t, http.StatusServiceUnavailable, rec.Code, "%s: status = %d, want 503", env, rec.Code)
					assert.Equal(t, tt.want, rec.Header().Get(ratelimit.HeaderRetryAfter), "%s: Retry-After", env)
					assert.NotContains(t, rec.Body.String(), errStoreDown.Error(), "%s: the body leaks the store error", env)
					if env == problem.EnvelopeProblem {
						var body map[string]any
						require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), "503 body %q", rec.Body)
						assert.Equal(t, "UNAVAILABLE", body["code"], "503 code = %v, want UNAVAILABLE", body["code"])
					}
				}
			})
		}
	})

	t.Run("FallBack", func(t *testing.T) {
		// Sandbox at half share: burst 5.
		lim := newLimiter(t, ratelimit.Config{Store: failingStore{errStoreDown}, Outage: ratelimit.FallBack})
		h := chiStack(problem.EnvelopeProblem, lim, nil)
		rec := serve(h, http.MethodGet, "/v1/ping")
		require.Equal(t, http.StatusOK, rec.Code, "status = %d, want 200", rec.Code)
		assert.Equal(t, 4, remaining(t, rec, "sandbox"), "sandbox r under FallBack, want 4 (burst 10 * 0.5 - 1)")

		// A policy that cannot refill during the test: exactly the scaled
		// burst is admitted.
		tests := []struct {
			share float64
			burst int
			want  int
		}{
			{0, 10, 5}, // 0 means 0.5
			{0.5, 10, 5},
			{0.25, 10, 2},
			{1, 10, 10},
			{0.01, 10, 1}, // never below 1
		}
		for _, tt := range tests {
			t.Run("share="+strconv.FormatFloat(tt.share, 'g', -1, 64), func(t *testing.T) {
				slow := ratelimit.Policy{Name: "slow", Rate: rate.Every(time.Hour), Burst: tt.burst}
				lim := newLimiter(t, ratelimit.Config{Store: failingStore{errStoreDown}, Outage: ratelimit.FallBack, FallbackShare: tt.share, Policy: slow})
				h := chiStack(problem.EnvelopeProblem, lim, nil)
				for i := 0; i < tt.want; i++ {
					rec := serve(h, http.MethodGet, "/v1/ping")
					require.Equal(t, http.StatusOK, rec.Code, "request %d: status = %d, want 200", i+1, rec.Code)
				}
				rec := serve(h, http.MethodGet, "/v1/ping")
				assert.Equal(t, "slow", refusedPolicy(t, problem.EnvelopeProblem, rec), "request %d: refused policy", tt.want+1)
			})
		}
	})
}

// TestLimiterOutageLogOncePerSecond fails every decision from many
// goroutines at once: the store error is logged at most once a second.
func TestLimiterOutageLogOncePerSecond(t *testing.T) {
	logs := &recordingHandler{}
	lim := newLimiter(t, ratelimit.Config{Store: failingStore{errStoreDown}, Outage: ratelimit.FailOpen, BreakerFailures: 1 << 20, Logger: slog.New(logs)})
	h := chiStack(problem.EnvelopeProblem, lim, nil)
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				serve(h, http.MethodGet, "/v1/ping")
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	max := 1 + int(elapsed/time.Second)
	got := len(logs.records())
	assert.GreaterOrEqual(t, got, 1, "log records = %d, want >= 1", got)
	assert.LessOrEqual(t, got, max, "log records = %d in %v, want <= %d", got, elapsed, max)
}

func TestOutageString(t *testing.T) {
	tests := []struct {
		o    ratelimit.Outage
		want string
	}{
		{ratelimit.FailOpen, "fail-open"},
		{ratelimit.FailClosed, "fail-closed"},
		{ratelimit.FallBack, "fall-back"},
		{ratelimit.Outage(9), "Outage(9)"},
	}
	for _, tt := range []struct {
		s    ratelimit.Source
		want string
	}{{ratelimit.SourceStore, "store"}, {ratelimit.SourceFallback, "fallback"}, {ratelimit.SourceNone, "none"}, {ratelimit.Source(7), "Source(7)"}} {
		assert.Equal(t, tt.want, tt.s.String(), "Source(%d).String()", int(tt.s))
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.o.String(), "Outage(%d).String() = %q, want %q", int(tt.o), tt.o.String(), tt.want)
		})
	}
}
