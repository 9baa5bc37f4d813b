package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/didip/tollbooth/v7"
	"github.com/go-chi/httprate"
	"github.com/sethvargo/go-limiter"
	golimiter "github.com/sethvargo/go-limiter/memorystore"
	"github.com/throttled/throttled/v2"
	"github.com/throttled/throttled/v2/store/memstore"
	ulule "github.com/ulule/limiter/v3"
	ulmemory "github.com/ulule/limiter/v3/drivers/store/memory"
	"golang.org/x/time/rate"
)

// peerImpls returns the peers' in-memory limiters, each configured so that
// every decision of the benchmarks is allowed and every key stays in the
// store for the length of a run.
func peerImpls() []impl {
	return []impl{
		{name: "go-limiter", open: openGoLimiter},
		{name: "xrate-map", open: openXRateMap},
		{name: "throttled", open: openThrottled},
		{name: "ulule", open: openUlule},
		{name: "tollbooth", open: openTollbooth},
		{name: "httprate", open: openHTTPRate},
	}
}

// goLimiterStore is sethvargo/go-limiter's memorystore, configured for a
// policy that never denies during a benchmark.
func goLimiterStore(tb testing.TB) limiter.Store {
	// go-limiter refills delta_ticks*Interval/Tokens tokens per tick, so a
	// bucket refills to Tokens only when Interval (ns) >= Tokens². A long
	// Interval keeps every run inside the first tick, where a bucket starts
	// full with Tokens tokens.
	s, err := golimiter.New(&golimiter.Config{Tokens: 1 << 40, Interval: time.Hour})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func openGoLimiter(tb testing.TB) store {
	s := goLimiterStore(tb)
	ctx := context.Background()
	allow := func(key string) bool {
		_, _, _, ok, _ := s.Take(ctx, key)
		return ok
	}
	return store{
		decider: func() decider { return allow },
		close:   func() { s.Close(ctx) },
	}
}

// xrateMap is the obvious baseline: a mutex-guarded map of
// golang.org/x/time/rate Limiters, one per key.
type xrateMap struct {
	mu sync.Mutex // guards m
	m  map[string]*rate.Limiter
}

func (x *xrateMap) allow(key string) bool {
	x.mu.Lock()
	l := x.m[key]
	if l == nil {
		l = rate.NewLimiter(benchRate, benchBurst)
		x.m[key] = l
	}
	x.mu.Unlock()
	return l.Allow()
}

func openXRateMap(tb testing.TB) store {
	x := &xrateMap{m: make(map[string]*rate.Limiter)}
	return store{
		decider: func() decider { return x.allow },
		len: func() int {
			x.mu.Lock()
			defer x.mu.Unlock()
			return len(x.m)
		},
	}
}

func openThrottled(tb testing.TB) store {
	st, err := memstore.NewCtx(0) // 0: a plain map, no LRU bound
	if err != nil {
		tb.Fatal(err)
	}
	lim, err := throttled.NewGCRARateLimiterCtx(st, throttled.RateQuota{
		MaxRate:  throttled.PerSec(benchRate),
		MaxBurst: benchBurst,
	})
	if err != nil {
		tb.Fatal(err)
	}
	// Under contention on one key (and on a loaded machine) the default
	// limit of 10 compare-and-swap attempts runs out and the decision
	// fails with an error; let it retry until it succeeds instead, so
	// that every decision is counted, retries included.
	lim.SetMaxCASAttemptsLimit(1 << 30)
	ctx := context.Background()
	allow := func(key string) bool {
		limited, _, err := lim.RateLimitCtx(ctx, key, 1)
		return err == nil && !limited
	}
	return store{decider: func() decider { return allow }}
}

func openUlule(tb testing.TB) store {
	// A fixed window of an hour keeps counters from expiring mid-run.
	lim := ulule.New(ulmemory.NewStore(), ulule.Rate{Period: time.Hour, Limit: 1 << 40})
	ctx := context.Background()
	allow := func(key string) bool {
		c, err := lim.Get(ctx, key)
		return err == nil && !c.Reached
	}
	return store{decider: func() decider { return allow }}
}

func openTollbooth(tb testing.TB) store {
	lmt := tollbooth.NewLimiter(benchRate, nil) // burst = max = 1e9
	allow := func(key string) bool { return !lmt.LimitReached(key) }
	return store{decider: func() decider { return allow }}
}

// headerWriter is the cheapest http.ResponseWriter that keeps headers:
// httprate's decision (OnLimit) always writes its headers.
type headerWriter struct{ h http.Header }

func (w *headerWriter) Header() http.Header         { return w.h }
func (w *headerWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *headerWriter) WriteHeader(int)             {}

func openHTTPRate(tb testing.TB) store {
	// A window of an hour keeps the sliding-window counters from rolling
	// over mid-run (a roll-over clears them).
	rl := httprate.NewRateLimiter(benchBurst, time.Hour)
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	return store{
		decider: func() decider {
			w := &headerWriter{h: make(http.Header, 4)}
			return func(key string) bool { return !rl.OnLimit(w, req, key) }
		},
	}
}
