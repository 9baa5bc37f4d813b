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
	client := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
	defer client.Close()
	st, err := redisstore.New(client, redisstore.Config{Prefix: testPrefix(b), Timeout: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
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
