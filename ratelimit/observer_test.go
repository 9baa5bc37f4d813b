package ratelimit_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/problem"
	"github.com/faultline-go/faultline/ratelimit"
)

// eventLog keeps copies of the events an observer gets.
type eventLog struct {
	mu  sync.Mutex // guards evs
	evs []ratelimit.DecisionEvent
}

func (l *eventLog) observe(_ context.Context, ev ratelimit.DecisionEvent) {
	ev.Policies = append([]ratelimit.PolicyResult(nil), ev.Policies...) // not to be kept past the call
	l.mu.Lock()
	l.evs = append(l.evs, ev)
	l.mu.Unlock()
}

func (l *eventLog) take() []ratelimit.DecisionEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	evs := l.evs
	l.evs = nil
	return evs
}

func TestLimiterObserver(t *testing.T) {
	var events eventLog
	store := &flakyStore{steppedStore: newSteppedStore(t)}
	lim := newLimiter(t, ratelimit.Config{Store: store, Observer: events.observe, BreakerFailures: 100})
	h := chiStack(problem.EnvelopeFlat, lim, func(r chi.Router) {
		r.With(lim.Route("reports", ratelimit.Policy{Rate: 1, Burst: 1})).Get("/v1/reports", okHandler)
	})

	serve(h, http.MethodGet, "/v1/ping")
	evs := events.take()
	require.Len(t, evs, 1, "events of an allowed request")
	assert.Equal(t, ratelimit.DecisionEvent{
		Key: "192.0.2.1", Allowed: true, Source: ratelimit.SourceStore, Breaker: "closed",
		Policies: []ratelimit.PolicyResult{{Policy: "sandbox", Result: ratelimit.Result{Allowed: true, Remaining: 9, Reset: 100e6}}},
	}, evs[0], "allowed request")

	serve(h, http.MethodGet, "/v1/reports")
	serve(h, http.MethodGet, "/v1/reports")
	evs = events.take()
	require.Len(t, evs, 4, "events of two report requests: Handler's and Route's each")
	assert.False(t, evs[0].Route, "Handler's event: Route")
	assert.True(t, evs[1].Allowed && evs[1].Route, "first report's Route event = %+v, want allowed", evs[1])
	assert.False(t, evs[3].Allowed, "second report's Route event = %+v, want refused", evs[3])
	assert.Equal(t, "reports", evs[3].Policies[0].Policy, "refused event's policy")

	store.err = errStoreDown
	serve(h, http.MethodGet, "/v1/ping")
	evs = events.take()
	require.Len(t, evs, 1)
	assert.Equal(t, ratelimit.SourceFallback, evs[0].Source, "source while the store fails")
	assert.Equal(t, errStoreDown, evs[0].StoreErr, "store error")
	assert.Equal(t, "sandbox", evs[0].Policies[0].Policy, "fallback policy name")
}

// nopWriter is a ResponseWriter that allocates nothing.
type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nopWriter) WriteHeader(int)             {}

// An allowed request through Handler allocates nothing without an
// observer, and nothing more with one, for a small policy and for the
// nearly full bucket of a huge one.
func TestLimiterObserverAllocations(t *testing.T) {
	// Policies that admit every request (a token a nanosecond, on a store
	// that reads the clock on every decision): one small enough for all
	// its RateLimit values to be cached, one whose nearly full buckets are.
	fast := ratelimit.Policy{Name: "fast", Rate: 1e9, Burst: 100}
	huge := ratelimit.Policy{Name: "huge", Rate: 1e9, Burst: ratelimit.MaxBurst}
	observe := func(context.Context, ratelimit.DecisionEvent) {}
	for _, tc := range []struct {
		name     string
		policy   ratelimit.Policy
		observer ratelimit.DecisionObserver
	}{
		{"no observer", fast, nil},
		{"observer", fast, observe},
		{"huge policy", huge, nil},
		{"huge policy, observer", huge, observe},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := newMemStore(t, ratelimit.MemoryConfig{Resolution: -1})
			lim := newLimiter(t, ratelimit.Config{Policy: tc.policy, Store: store, Observer: tc.observer})
			h := lim.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			w := &nopWriter{h: http.Header{}}
			serve := func() {
				clear(w.h) // a fresh response's header map, reused
				h.ServeHTTP(w, req)
			}
			serve()
			allocs := testing.AllocsPerRun(1000, serve)
			t.Logf("allocations per allowed request, %s: %v", tc.name, allocs)
			assert.Zero(t, allocs, "allocations per allowed request (%s) = %v, want 0", tc.name, allocs)
		})
	}
}
