package bench

import (
	"bufio"
	"context"
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// redisAddrEnv names the environment variable holding the address of the
// redis-server the Redis benchmarks use; they skip when it is unset.
const redisAddrEnv = "FAULTLINE_REDIS_ADDR"

// redisLimit is the generous policy of the Redis benchmarks: a million
// requests per second, far above what one redis-server answers. It is no
// higher because redis_rate keeps times as float seconds since 2017, in
// which an emission interval much under a microsecond rounds to nothing:
// the script then never writes the bucket back (no SET), which would make
// it look cheaper than it is.
var redisLimit = redis_rate.Limit{Rate: 1_000_000, Burst: 1_000_000, Period: time.Second}

// redisAllow decides one request for key.
type redisAllow func(ctx context.Context, key string) (bool, error)

// redisImpl is one Redis-backed limiter.
type redisImpl struct {
	name string
	// open connects to addr. It returns a nil allow when the limiter is not
	// available yet. cleanup and clientCmds may be nil; clientCmds, when
	// set, counts the commands the client has sent.
	open func(tb testing.TB, addr string) (allow redisAllow, cleanup func(), clientCmds *atomic.Int64)
}

func redisImpls() []redisImpl {
	return []redisImpl{
		{name: "faultline", open: openFaultlineRedis(1)},
		{name: "faultline-3-policies", open: openFaultlineRedis(3)},
		{name: "redis_rate", open: openRedisRate},
	}
}

// openFaultlineRedis opens our Redis store, deciding against the given
// number of policies, with a hook counting the client's commands.
func openFaultlineRedis(policies int) func(tb testing.TB, addr string) (redisAllow, func(), *atomic.Int64) {
	return func(tb testing.TB, addr string) (redisAllow, func(), *atomic.Int64) {
		h := new(countingHook)
		allow, cleanup := faultlineRedis(tb, addr, policies, h)
		return allow, cleanup, &h.n
	}
}

func openRedisRate(tb testing.TB, addr string) (redisAllow, func(), *atomic.Int64) {
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	h := new(countingHook)
	rdb.AddHook(h)
	lim := redis_rate.NewLimiter(rdb)
	allow := func(ctx context.Context, key string) (bool, error) {
		res, err := lim.Allow(ctx, key, redisLimit)
		if err != nil {
			return false, err
		}
		return res.Allowed > 0, nil
	}
	return allow, func() { rdb.Close() }, &h.n
}

// countingHook counts the commands a go-redis client sends (a pipeline
// counts each of its commands).
type countingHook struct{ n atomic.Int64 }

func (h *countingHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *countingHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmd)
	}
}

func (h *countingHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.n.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}

// serverCommands returns the server's total_commands_processed, which
// counts the commands scripts run as well as the clients' own. It uses a
// connection of its own, so that no limiter's client is involved.
func serverCommands(tb testing.TB, addr string) int64 {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		tb.Fatalf("INFO: %v", err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write([]byte("INFO stats\r\n")); err != nil {
		tb.Fatalf("INFO: %v", err)
	}
	r := bufio.NewReader(conn)
	head, err := r.ReadString('\n') // $<length>
	if err != nil || !strings.HasPrefix(head, "$") {
		tb.Fatalf("INFO: reply %q, err %v", head, err)
	}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			tb.Fatalf("INFO: no total_commands_processed: %v", err)
		}
		if v, ok := strings.CutPrefix(line, "total_commands_processed:"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				tb.Fatalf("INFO: %q: %v", line, err)
			}
			return n
		}
	}
}

// reportCommands reports client and server commands per decision over n
// decisions: the server count between before and now, less this
// function's own INFO.
func reportCommands(b *testing.B, addr string, n int, before int64, clientCmds *atomic.Int64, clientBefore int64) {
	after := serverCommands(b, addr)
	b.ReportMetric(float64(after-before-1)/float64(n), "server-cmds/op")
	if clientCmds != nil {
		b.ReportMetric(float64(clientCmds.Load()-clientBefore)/float64(n), "client-cmds/op")
	}
}

func redisAddr(tb testing.TB) string {
	addr := os.Getenv(redisAddrEnv)
	if addr == "" {
		tb.Skipf("%s is not set", redisAddrEnv)
	}
	return addr
}

// BenchmarkRedis is one allowed decision on one existing key against a
// real redis-server, from one goroutine (serial) and from GOMAXPROCS
// goroutines at once (parallel).
func BenchmarkRedis(b *testing.B) {
	addr := redisAddr(b)
	for _, im := range redisImpls() {
		b.Run(im.name, func(b *testing.B) {
			allow, cleanup, clientCmds := im.open(b, addr)
			if allow == nil {
				b.Skipf("%s Redis store not available yet", im.name)
			}
			if cleanup != nil {
				defer cleanup()
			}
			ctx := context.Background()
			key := "faultline-bench:" + im.name
			if ok, err := allow(ctx, key); err != nil || !ok {
				b.Fatalf("warm-up: allowed %v, err %v", ok, err)
			}
			var clientBefore int64
			b.Run("serial", func(b *testing.B) {
				server := serverCommands(b, addr)
				if clientCmds != nil {
					clientBefore = clientCmds.Load()
				}
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if ok, err := allow(ctx, key); err != nil || !ok {
						b.Fatalf("decision %d: allowed %v, err %v", i, ok, err)
					}
				}
				b.StopTimer()
				reportCommands(b, addr, b.N, server, clientCmds, clientBefore)
			})
			b.Run("parallel", func(b *testing.B) {
				var failed atomic.Int64
				server := serverCommands(b, addr)
				if clientCmds != nil {
					clientBefore = clientCmds.Load()
				}
				b.ReportAllocs()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if ok, err := allow(ctx, key); err != nil || !ok {
							failed.Add(1)
						}
					}
				})
				b.StopTimer()
				if n := failed.Load(); n > 0 {
					b.Fatalf("%d of %d decisions failed or were denied", n, b.N)
				}
				reportCommands(b, addr, b.N, server, clientCmds, clientBefore)
			})
		})
	}
}

// TestRedis checks that every available Redis limiter allows a first
// decision; it skips without FAULTLINE_REDIS_ADDR.
func TestRedis(t *testing.T) {
	addr := redisAddr(t)
	for _, im := range redisImpls() {
		t.Run(im.name, func(t *testing.T) {
			allow, cleanup, _ := im.open(t, addr)
			if allow == nil {
				t.Skipf("%s Redis store not available yet", im.name)
			}
			if cleanup != nil {
				defer cleanup()
			}
			ok, err := allow(context.Background(), "faultline-test:"+im.name)
			if err != nil || !ok {
				t.Fatalf("allow() = %v, %v, want true, nil", ok, err)
			}
		})
	}
}

// TestRedisCost checks the promises BenchmarkRedis measures: our store
// sends one command per decision whatever the number of policies, and
// allocates less per decision than redis_rate.
func TestRedisCost(t *testing.T) {
	addr := redisAddr(t)
	allocs := map[string]float64{}
	for _, im := range redisImpls() {
		allow, cleanup, cmds := im.open(t, addr)
		ctx := context.Background()
		key := "faultline-cost:" + im.name
		decide := func() {
			if ok, err := allow(ctx, key); err != nil || !ok {
				t.Fatalf("%s: allow() = %v, %v, want true, nil", im.name, ok, err)
			}
		}
		decide() // warm-up: connection, script cache
		before := cmds.Load()
		allocs[im.name] = testing.AllocsPerRun(200, decide)
		perDecision := float64(cmds.Load()-before) / 201 // AllocsPerRun runs once more to warm up
		t.Logf("%s: %.1f allocs, %.2f client commands per decision", im.name, allocs[im.name], perDecision)
		if strings.HasPrefix(im.name, "faultline") && perDecision != 1 {
			t.Errorf("%s: %.2f client commands per decision, want 1", im.name, perDecision)
		}
		cleanup()
	}
	for _, name := range []string{"faultline", "faultline-3-policies"} {
		if allocs[name] >= allocs["redis_rate"] {
			t.Errorf("%s: %.1f allocs per decision, want fewer than redis_rate's %.1f", name, allocs[name], allocs["redis_rate"])
		}
	}
}
