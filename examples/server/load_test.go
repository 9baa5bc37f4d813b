package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/ratelimit/redisstore"
)

// spinEnv makes the test binary a busy loop: see TestSpin.
const spinEnv = "FAULTLINE_TEST_SPIN"

// TestSpin is not a test: run by TestLoadTwoReplicasOneRedis as a child
// process with FAULTLINE_TEST_SPIN set, it spins one core until killed.
func TestSpin(t *testing.T) {
	if os.Getenv(spinEnv) == "" {
		t.Skip("a helper process of TestLoadTwoReplicasOneRedis")
	}
	for x := uint64(1); ; x = x*6364136223846793005 + 1 {
		if x == 0 {
			fmt.Println(x) // never: keeps the loop from being optimised away
		}
	}
}

// TestLoadTwoReplicasOneRedis is the limit under load: two demo replicas
// on one Redis, one key pair at 10/s, concurrent clients, while busy loops
// oversubscribe every core for the whole test, so store calls really miss
// their time budget. With the default Outage (FallBack at the default
// share, 0.5, which is 1/N for N = 2 replicas) the replicas together admit
// at most the shared bucket's burst + rate × t plus each replica's
// fallback share of it.
func TestLoadTwoReplicasOneRedis(t *testing.T) {
	addr := os.Getenv("FAULTLINE_REDIS_ADDR")
	if addr == "" {
		if os.Getenv("FAULTLINE_REQUIRE_REDIS") == "1" {
			t.Fatal("FAULTLINE_REQUIRE_REDIS=1 but FAULTLINE_REDIS_ADDR is unset")
		}
		t.Skip("FAULTLINE_REDIS_ADDR is unset; make test starts a redis-server")
	}
	if os.Getenv("FAULTLINE_LOAD_TEST") != "1" {
		// Its busy loops would slow every test running beside it: make
		// test runs it on its own, after the others.
		t.Skip("FAULTLINE_LOAD_TEST is not 1; make test runs this test on its own")
	}
	const (
		rps      = 10
		duration = 3 * time.Second
		clients  = 32 // per replica
		share    = 0.5
	)
	prefix := fmt.Sprintf("load-test-%d", time.Now().UnixNano())
	var replicas []*testServer
	for range 2 {
		client := redis.NewClient(redisstore.Options(&redis.Options{Addr: addr}))
		t.Cleanup(func() { _ = client.Close() })
		store, err := redisstore.New(client, redisstore.Config{Prefix: prefix})
		require.NoError(t, err)
		replicas = append(replicas, startServerWith(t, "flat", func(cfg *serverConfig) {
			cfg.Rate, cfg.Store = rps, store
		}))
	}

	// Busy loops: four per core, in processes of their own, so they compete
	// with redis-server as well as with this process.
	spinners := 4 * runtime.NumCPU()
	for range spinners {
		cmd := exec.Command(os.Args[0], "-test.run=^TestSpin$")
		cmd.Env = append(os.Environ(), spinEnv+"=1")
		require.NoError(t, cmd.Start(), "starting a busy loop")
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	}

	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	var ok, refused, other atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for _, srv := range replicas {
		for range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.url+"/v1/accounts/acc_1", nil)
					req.SetBasicAuth("demo-key", "demo-secret")
					resp, err := srv.client.Do(req)
					if err != nil {
						continue // the deadline, mid-request
					}
					resp.Body.Close()
					switch resp.StatusCode {
					case http.StatusOK:
						ok.Add(1)
					case http.StatusTooManyRequests:
						refused.Add(1)
					default:
						other.Add(1)
					}
				}
			}()
		}
	}
	wg.Wait()
	elapsed := time.Since(start)
	shared := rps + rps*elapsed.Seconds() // burst + rate × t
	bound := shared * (1 + 2*share)
	outages := 0
	for _, srv := range replicas {
		outages += strings.Count(srv.logs.String(), `"rate limit store fail`)
	}
	t.Logf("load: %d admitted, %d refused, %d other in %v with %d busy loops on %d cores; bound %.0f (shared %.0f + 2 replicas × %.1f fallback share); %d store-failure records",
		ok.Load(), refused.Load(), other.Load(), elapsed.Round(time.Millisecond), spinners, runtime.NumCPU(), bound, shared, share, outages)
	assert.LessOrEqual(t, float64(ok.Load()), bound, "admitted %d, want <= %.0f", ok.Load(), bound)
	assert.GreaterOrEqual(t, ok.Load(), int64(rps), "admitted %d, want at least one burst (%d): the limiter must not refuse everything", ok.Load(), rps)
	assert.Zero(t, other.Load(), "responses other than 200 and 429: %d", other.Load())
	assert.Positive(t, refused.Load(), "no request was refused: the load did not reach the limit")
}
