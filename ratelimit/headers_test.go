package ratelimit_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/faultline-go/faultline/middleware"
	"github.com/faultline-go/faultline/problem"
	"github.com/faultline-go/faultline/ratelimit"
)

// An allowed request through Route alone, which decides the caller's
// policy and the route's together, allocates nothing either, on chi and
// below another Route of the same limiter.
func TestRouteAllocations(t *testing.T) {
	fast := ratelimit.Policy{Name: "fast", Rate: 1e9, Burst: 100}
	huge := ratelimit.Policy{Name: "huge", Rate: 1e9, Burst: ratelimit.MaxBurst}
	store := newMemStore(t, ratelimit.MemoryConfig{Resolution: -1})
	lim := newLimiter(t, ratelimit.Config{Policy: fast, Store: store})
	noop := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	for _, tc := range []struct {
		name string
		h    http.Handler
		want string // RateLimit-Policy
	}{
		{"one route policy", lim.Route("reports", huge)(noop), `"fast";q=100;w=1, "reports";q=1073741824;w=2`},
		{"two route policies", lim.Route("a", fast)(lim.Route("b", huge)(noop)), `"fast";q=100;w=1, "a";q=100;w=1, "b";q=1073741824;w=2`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			w := &nopWriter{h: http.Header{}}
			serve := func() {
				clear(w.h)
				tc.h.ServeHTTP(w, req)
			}
			serve()
			assert.Equal(t, tc.want, w.h.Get(ratelimit.HeaderRateLimitPolicy), "RateLimit-Policy")
			allocs := testing.AllocsPerRun(1000, serve)
			assert.Zero(t, allocs, "allocations per allowed request (%s) = %v, want 0", tc.name, allocs)
		})
	}
}

// A Route's RateLimit line is right when a value falls outside its
// policy's cache too: a bucket of 10 at 3/s, once empty, is full again in
// 3.33s, a whole second more than its cache holds.
func TestRouteHeadersPastTheCache(t *testing.T) {
	caller := ratelimit.Policy{Name: "odd", Rate: 3, Burst: 10}
	lim := newLimiter(t, ratelimit.Config{Policy: caller, Store: newSteppedStore(t)})
	route := lim.Route("big", ratelimit.Policy{Rate: 1e9, Burst: ratelimit.MaxBurst})
	h := middleware.Recover(renderer(problem.EnvelopeFlat))(route(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
	var got []string
	for range 11 {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		got = append(got, rec.Header().Get(ratelimit.HeaderRateLimit))
	}
	assert.Equal(t, `"odd";r=9;t=1, "big";r=1073741823;t=1`, got[0], "RateLimit, first request")
	assert.Equal(t, `"odd";r=0;t=4, "big";r=1073741814;t=1`, got[9], "RateLimit, tenth request")
	assert.Equal(t, `"odd";r=0;t=4, "big";r=1073741814;t=1`, got[10], "RateLimit, refused eleventh request")
}
