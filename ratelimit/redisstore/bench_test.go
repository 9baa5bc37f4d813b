package redisstore_test

import (
	"context"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/faultline-go/faultline/ratelimit"
	"github.com/faultline-go/faultline/ratelimit/redisstore"
)

// BenchmarkRedisTake is an allowed decision on existing keys against the
// redis-server at FAULTLINE_REDIS_ADDR (skipped when unset), with 1 and 3
// checks, from one goroutine and from GOMAXPROCS goroutines (each on a key
// of its own).
func BenchmarkRedisTake(b *testing.B) {
	addr := os.Getenv(envRedisAddr)
	if addr == "" {
		b.Skipf("%s is not set", envRedisAddr)
	}
	st := benchStore(b, addr)
	policies := []ratelimit.Policy{
		{Name: "default", Rate: 1e9, Burst: 1e9},
		{Name: "reports", Rate: 1e9, Burst: 1e9},
		{Name: "exports", Rate: 1e9, Burst: 1e9},
	}
	ctx := context.Background()
	checksFor := func(key string, n int) []ratelimit.Check {
		checks := make([]ratelimit.Check, n)
		for i := range checks {
			checks[i] = ratelimit.Check{Policy: policies[i], Key: key}
		}
		return checks
	}
	for _, n := range []int{1, 3} {
		b.Run("checks="+strconv.Itoa(n), func(b *testing.B) {
			b.Run("serial", func(b *testing.B) {
				checks := checksFor("bench-serial", n)
				var res [ratelimit.MaxChecks]ratelimit.Result
				if ok, err := st.Take(ctx, checks, res[:]); err != nil || !ok {
					b.Fatalf("warm-up: Take() = %v, %v", ok, err)
				}
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if ok, err := st.Take(ctx, checks, res[:]); err != nil || !ok {
						b.Fatalf("Take() = %v, %v, want true, nil", ok, err)
					}
				}
			})
			b.Run("parallel", func(b *testing.B) {
				var id, failed atomic.Int64
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					checks := checksFor("bench-parallel-"+strconv.FormatInt(id.Add(1), 10), n)
					var res [ratelimit.MaxChecks]ratelimit.Result
					for pb.Next() {
						if ok, err := st.Take(ctx, checks, res[:]); err != nil || !ok {
							failed.Add(1)
						}
					}
				})
				if f := failed.Load(); f > 0 {
					b.Fatalf("%d of %d decisions failed or were refused", f, b.N)
				}
			})
		})
	}
}

// benchStore is a store on the server at addr with a prefix of the
// benchmark's own and a budget of a second.
func benchStore(b *testing.B, addr string) *redisstore.Store {
	client := redis.NewClient(redisstore.Options(&redis.Options{Addr: addr}))
	b.Cleanup(func() { _ = client.Close() })
	st, err := redisstore.New(client, redisstore.Config{Prefix: testPrefix(b), Timeout: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	return st
}

// BenchmarkRedisRefund is a refund of one token to an existing bucket, as
// the Limiter sends for a request a later policy refused.
func BenchmarkRedisRefund(b *testing.B) {
	addr := os.Getenv(envRedisAddr)
	if addr == "" {
		b.Skipf("%s is not set", envRedisAddr)
	}
	st := benchStore(b, addr)
	ctx := context.Background()
	checks := []ratelimit.Check{{Policy: ratelimit.Policy{Name: "default", Rate: 1e9, Burst: 1e9}, Key: "bench-refund"}}
	var res [1]ratelimit.Result
	if ok, err := st.Take(ctx, checks, res[:]); err != nil || !ok {
		b.Fatalf("warm-up: Take() = %v, %v", ok, err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := st.Refund(ctx, checks, res[:]); err != nil {
			b.Fatalf("Refund() = %v, want nil", err)
		}
	}
}
