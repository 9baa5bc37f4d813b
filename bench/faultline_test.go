package bench

// Our side of the comparison. Extend this file as the library grows: the
// benchmarks pick up whatever the hooks below return.

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/faultline-go/faultline/ratelimit"
	"github.com/faultline-go/faultline/ratelimit/redisstore"
)

// benchPolicy is the generous policy every faultline decision is made
// against.
var benchPolicy = ratelimit.Policy{Name: "bench", Rate: benchRate, Burst: benchBurst}

// faultlineImpls returns our in-memory stores, in the shape the decision
// and bytes-per-key benchmarks use.
func faultlineImpls() []impl {
	return []impl{
		{name: "faultline", open: func(tb testing.TB) store {
			s := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{})
			lim, err := s.Limiter(benchPolicy)
			if err != nil {
				tb.Fatal(err)
			}
			allow := func(key string) bool { return lim.Allow(key).Allowed }
			return store{
				decider: func() decider { return allow },
				close:   func() { s.Close() },
				len:     s.Len,
			}
		}},
	}
}

// faultlineMiddleware is our HTTP rate-limit middleware for
// BenchmarkMiddleware/faultline: the Limiter's Handler keyed on the client
// IP (httptest requests all come from 192.0.2.1) with benchPolicy, over its
// own MemoryStore, with its headers.
func faultlineMiddleware(tb testing.TB) (mw func(http.Handler) http.Handler, cleanup func()) {
	p := benchPolicy
	lim, err := ratelimit.New(ratelimit.Config{Policy: p})
	if err != nil {
		tb.Fatal(err)
	}
	return lim.Handler, func() { lim.Close() }
}

// redisPolicy matches redisLimit: a million requests per second, burst a
// million, so every decision is allowed and writes its bucket.
var redisPolicy = ratelimit.Policy{Name: "bench", Rate: 1_000_000, Burst: 1_000_000}

// faultlineRedis is our Redis store for BenchmarkRedis/faultline: one
// decision for key against the first policies of redisPolicies (1 to 3),
// one EVALSHA whatever their number. hooks see the client's commands.
func faultlineRedis(tb testing.TB, addr string, policies int, hooks ...redis.Hook) (allow func(ctx context.Context, key string) (bool, error), cleanup func()) {
	client := redis.NewClient(redisstore.Options(&redis.Options{Addr: addr}))
	for _, h := range hooks {
		client.AddHook(h)
	}
	// A budget of a second: the benchmark measures cost, not outages, and
	// a loaded machine misses the default 50ms now and then.
	s, err := redisstore.New(client, redisstore.Config{Prefix: "bench", Timeout: time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	ps := redisPolicies[:policies]
	allow = func(ctx context.Context, key string) (bool, error) {
		var checks [3]ratelimit.Check
		var res [3]ratelimit.Result
		for i, p := range ps {
			checks[i] = ratelimit.Check{Policy: p, Key: key}
		}
		return s.Take(ctx, checks[:len(ps)], res[:len(ps)])
	}
	return allow, func() { s.Close(); client.Close() }
}

// redisPolicies are the policies of a route with three: the default and
// two route policies, each as generous as redisPolicy.
var redisPolicies = []ratelimit.Policy{
	redisPolicy,
	{Name: "reports", Rate: redisPolicy.Rate, Burst: redisPolicy.Burst},
	{Name: "exports", Rate: redisPolicy.Rate, Burst: redisPolicy.Burst},
}
