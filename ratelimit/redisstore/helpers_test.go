package redisstore_test

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/ratelimit"
	"github.com/faultline-go/faultline/ratelimit/redisstore"
)

// Environment of the Redis tests; scripts/redis.sh start writes it.
const (
	envRedisAddr     = "FAULTLINE_REDIS_ADDR"          // host:port of a standalone redis-server
	envRedisCluster  = "FAULTLINE_REDIS_CLUSTER_ADDRS" // comma-separated seeds of a Redis Cluster
	envRequireRedis  = "FAULTLINE_REQUIRE_REDIS"       // "1": fail rather than skip without them
	testStoreTimeout = 2 * time.Second                 // generous, so a loaded machine does not flake
)

// TestMain routes go-redis's log lines, a plain-text line per failed dial
// on stderr by default, away from the test output.
func TestMain(m *testing.M) {
	redis.SetLogger(redisstore.Logger(slog.New(slog.DiscardHandler)))
	os.Exit(m.Run())
}

func redisRequired() bool { return os.Getenv(envRequireRedis) == "1" }

// skipOrFail skips the test, or fails it when Redis is required.
func skipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	if redisRequired() {
		t.Fatalf(format+" (and %s=1)", append(args, envRequireRedis)...)
	}
	t.Skipf(format, args...)
}

// redisAddr is the standalone server's address.
func redisAddr(t testing.TB) string {
	t.Helper()
	addr := os.Getenv(envRedisAddr)
	if addr == "" {
		skipOrFail(t, "%s is not set: run make test, or scripts/redis.sh start", envRedisAddr)
	}
	return addr
}

// clusterAddrs are the cluster's seed addresses.
func clusterAddrs(t testing.TB) []string {
	t.Helper()
	v := os.Getenv(envRedisCluster)
	if v == "" {
		skipOrFail(t, "%s is not set: run make test, or scripts/redis.sh start", envRedisCluster)
	}
	return strings.Split(v, ",")
}

// newClient connects to addr, with context deadlines honoured, and closes
// the client when the test ends.
func newClient(t testing.TB, addr string, hooks ...redis.Hook) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
	for _, h := range hooks {
		c.AddHook(h)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// newClusterClient connects to the test cluster.
func newClusterClient(t testing.TB, hooks ...redis.Hook) *redis.ClusterClient {
	t.Helper()
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: clusterAddrs(t), ContextTimeoutEnabled: true})
	for _, h := range hooks {
		c.AddHook(h)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

var unsafeKeyChars = regexp.MustCompile(`[^A-Za-z0-9_./-]`)

// testPrefix is a key prefix of the test's own, so tests never share keys.
func testPrefix(t testing.TB) string {
	var b [6]byte
	_, _ = crand.Read(b[:])
	return "fltest:" + unsafeKeyChars.ReplaceAllString(t.Name(), "_") + ":" + hex.EncodeToString(b[:])
}

// newStore returns a RedisStore on client with a prefix of the test's own.
func newStore(t testing.TB, client redis.UniversalClient) (*redisstore.Store, string) {
	t.Helper()
	prefix := testPrefix(t)
	st, err := redisstore.New(client, redisstore.Config{Prefix: prefix, Timeout: testStoreTimeout})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	return st, prefix
}

// bucketKey is the Redis key of a plain key's bucket under policy p.
func bucketKey(prefix, key string, p ratelimit.Policy) string {
	return fmt.Sprintf("%s:{%s}:%s:%s:%d", prefix, key, p.Name, strconv.FormatFloat(float64(p.Rate), 'g', -1, 64), p.Burst)
}

// take decides one request against policies for key.
func take(t testing.TB, st ratelimit.Store, key string, policies ...ratelimit.Policy) (bool, []ratelimit.Result) {
	t.Helper()
	checks := make([]ratelimit.Check, len(policies))
	for i, p := range policies {
		checks[i] = ratelimit.Check{Policy: p, Key: key}
	}
	res := make([]ratelimit.Result, len(checks))
	ok, err := st.Take(context.Background(), checks, res)
	require.NoError(t, err)
	return ok, res
}

// bucket reads a bucket's stored state: tokens, and the Redis time of its
// last debit.
func bucket(t testing.TB, c redis.UniversalClient, key string) (tokens float64, last time.Time) {
	t.Helper()
	v, err := c.Get(context.Background(), key).Result()
	require.NoError(t, err, "GET %s", key)
	f := strings.Fields(v)
	require.Len(t, f, 2, "bucket %q = %q, want \"tokens last_us\"", key, v)
	tokens, err = strconv.ParseFloat(f[0], 64)
	require.NoError(t, err)
	us, err := strconv.ParseInt(f[1], 10, 64)
	require.NoError(t, err)
	return tokens, time.UnixMicro(us)
}

func redisTime(t testing.TB, c redis.UniversalClient) time.Time {
	t.Helper()
	now, err := c.Time(context.Background()).Result()
	require.NoError(t, err)
	return now
}

// within asserts |got - want| <= tol.
func within(t testing.TB, got, want, tol time.Duration, msgAndArgs ...any) {
	t.Helper()
	d := got - want
	if d < 0 {
		d = -d
	}
	assert.LessOrEqual(t, d, tol, msgAndArgs...)
}

func remainings(res []ratelimit.Result) []int {
	r := make([]int, len(res))
	for i := range res {
		r[i] = res[i].Remaining
	}
	return r
}

// cmdCounter is a go-redis hook recording the name of every command the
// client sends, pipelined or not.
type cmdCounter struct {
	mu    sync.Mutex // guards names
	names []string
}

func (h *cmdCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *cmdCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.add(cmd)
		return next(ctx, cmd)
	}
}

func (h *cmdCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, cmd := range cmds {
			h.add(cmd)
		}
		return next(ctx, cmds)
	}
}

func (h *cmdCounter) add(cmd redis.Cmder) {
	h.mu.Lock()
	h.names = append(h.names, cmd.Name())
	h.mu.Unlock()
}

// reset returns the names recorded so far and forgets them.
func (h *cmdCounter) reset() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	names := h.names
	h.names = nil
	return names
}

var callsRE = regexp.MustCompile(`(?m)^cmdstat_([\w|]+):calls=(\d+)`)

// serverCalls reads INFO commandstats: the calls of each command the
// servers ran, summed over the masters of a cluster.
func serverCalls(t testing.TB, c redis.UniversalClient) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	calls := map[string]int64{}
	read := func(ctx context.Context, c *redis.Client) error {
		info, err := c.Info(ctx, "commandstats").Result()
		if err != nil {
			return err
		}
		for _, m := range callsRE.FindAllStringSubmatch(info, -1) {
			n, _ := strconv.ParseInt(m[2], 10, 64)
			calls[m[1]] += n
		}
		return nil
	}
	switch c := c.(type) {
	case *redis.Client:
		require.NoError(t, read(ctx, c))
	case *redis.ClusterClient:
		var mu sync.Mutex
		require.NoError(t, c.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
			mu.Lock()
			defer mu.Unlock()
			return read(ctx, c)
		}))
	default:
		t.Fatalf("serverCalls(%T): unknown client", c)
	}
	return calls
}

// ownRedis is a redis-server process of the test's own.
type ownRedis struct {
	t    *testing.T
	port string
	dir  string
	cmd  *exec.Cmd
}

func startOwnRedis(t *testing.T) *ownRedis {
	if _, err := exec.LookPath("redis-server"); err != nil {
		skipOrFail(t, "redis-server is not on PATH: install it (Debian: apt-get install redis-server)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	_, port, _ := net.SplitHostPort(l.Addr().String())
	require.NoError(t, l.Close())
	r := &ownRedis{t: t, port: port, dir: t.TempDir()}
	r.start()
	t.Cleanup(r.kill)
	return r
}

func (r *ownRedis) addr() string { return "127.0.0.1:" + r.port }

func (r *ownRedis) start() {
	r.t.Helper()
	r.cmd = exec.Command("redis-server", "--port", r.port, "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", r.dir)
	require.NoError(r.t, r.cmd.Start())
	c := redis.NewClient(&redis.Options{Addr: r.addr(), MaxRetries: -1})
	defer c.Close()
	for start := time.Now(); ; time.Sleep(20 * time.Millisecond) {
		if c.Ping(context.Background()).Err() == nil {
			return
		}
		if time.Since(start) > 10*time.Second {
			r.kill()
			r.t.Fatalf("redis-server on port %s does not answer PING", r.port)
		}
	}
}

func (r *ownRedis) kill() {
	if r.cmd != nil && r.cmd.ProcessState == nil {
		_ = r.cmd.Process.Kill()
		_ = r.cmd.Wait()
	}
}

func (r *ownRedis) signal(sig syscall.Signal) {
	require.NoError(r.t, r.cmd.Process.Signal(sig))
}
