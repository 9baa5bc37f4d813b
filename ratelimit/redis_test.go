package ratelimit_test

import (
	"context"
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/faultline-go/faultline/middleware"
	"github.com/faultline-go/faultline/problem"
	"github.com/faultline-go/faultline/ratelimit"
)

// Environment of the Redis tests; scripts/redis.sh start writes it.
const (
	envRedisAddr     = "FAULTLINE_REDIS_ADDR"          // host:port of a standalone redis-server
	envRedisCluster  = "FAULTLINE_REDIS_CLUSTER_ADDRS" // comma-separated seeds of a Redis Cluster
	envRequireRedis  = "FAULTLINE_REQUIRE_REDIS"       // "1": fail rather than skip without them
	testStoreTimeout = 2 * time.Second                 // generous, so a loaded machine does not flake
)

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
func newStore(t testing.TB, client redis.UniversalClient) (*ratelimit.RedisStore, string) {
	t.Helper()
	prefix := testPrefix(t)
	st, err := ratelimit.NewRedisStore(client, ratelimit.RedisConfig{Prefix: prefix, Timeout: testStoreTimeout})
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

// quiet is a logger for the renderer and limiter that drops everything.
var (
	quiet         = slog.New(slog.DiscardHandler)
	quietRenderer = problem.MustRenderer(problem.Config{Logger: quiet})
)

func TestNewRedisStore(t *testing.T) {
	good := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true})
	defer good.Close()
	plain := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer plain.Close()
	cluster := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}})
	defer cluster.Close()

	tests := []struct {
		name    string
		client  redis.UniversalClient
		cfg     ratelimit.RedisConfig
		wantErr error // nil: no error; errAny: some error
	}{
		{name: "defaults", client: good},
		{name: "prefix and timeout", client: good, cfg: ratelimit.RedisConfig{Prefix: "svc:rl", Timeout: time.Second}},
		{name: "nil client", client: nil, wantErr: errAny},
		{name: "open brace in prefix", client: good, cfg: ratelimit.RedisConfig{Prefix: "a{b"}, wantErr: errAny},
		{name: "close brace in prefix", client: good, cfg: ratelimit.RedisConfig{Prefix: "a}b"}, wantErr: errAny},
		{name: "client ignores deadlines", client: plain, wantErr: ratelimit.ErrNoContextTimeout},
		{name: "cluster client ignores deadlines", client: cluster, wantErr: ratelimit.ErrNoContextTimeout},
		{name: "no timeout asked", client: plain, cfg: ratelimit.RedisConfig{Timeout: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := ratelimit.NewRedisStore(tt.client, tt.cfg)
			switch tt.wantErr {
			case nil:
				require.NoError(t, err)
				require.NotNil(t, st)
				assert.NoError(t, st.Close())
				assert.NoError(t, st.Close(), "Close() twice")
			case errAny:
				assert.Error(t, err, "NewRedisStore() = %v, want an error", st)
			default:
				assert.ErrorIs(t, err, tt.wantErr)
			}
		})
	}
}

var errAny = errors.New("any error")

// TestRedisStoreErrors covers the failures Take reports before reaching
// Redis; no server is needed.
func TestRedisStoreErrors(t *testing.T) {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true, MaxRetries: -1})
	defer client.Close()
	st, err := ratelimit.NewRedisStore(client, ratelimit.RedisConfig{})
	require.NoError(t, err)
	p := ratelimit.Policy{Name: "p", Rate: 1, Burst: 1}
	res := make([]ratelimit.Result, ratelimit.MaxChecks+1)

	t.Run("too many checks", func(t *testing.T) {
		checks := make([]ratelimit.Check, ratelimit.MaxChecks+1)
		for i := range checks {
			checks[i] = ratelimit.Check{Policy: p, Key: "k"}
		}
		_, err := st.Take(context.Background(), checks, res)
		assert.ErrorIs(t, err, ratelimit.ErrTooManyPolicies)
	})
	t.Run("different keys", func(t *testing.T) {
		checks := []ratelimit.Check{{Policy: p, Key: "a"}, {Policy: p, Key: "b"}}
		_, err := st.Take(context.Background(), checks, res)
		assert.ErrorIs(t, err, ratelimit.ErrCrossSlot)
	})
	t.Run("different keys of an unlimited check", func(t *testing.T) {
		// An unlimited check never reaches Redis, so its key does not
		// matter; the finite one still needs the server, which is absent.
		inf := ratelimit.Policy{Name: "inf", Rate: rate.Inf, Burst: 3}
		checks := []ratelimit.Check{{Policy: inf, Key: "a"}, {Policy: inf, Key: "b"}}
		ok, err := st.Take(context.Background(), checks, res)
		require.NoError(t, err)
		assert.True(t, ok)
		assert.Equal(t, ratelimit.Result{Allowed: true, Remaining: 3}, res[1])
	})
	t.Run("invalid policy", func(t *testing.T) {
		for _, bad := range []ratelimit.Policy{{Name: "zero", Rate: 0, Burst: 1}, {Name: "noburst", Rate: 1}} {
			_, err := st.Take(context.Background(), []ratelimit.Check{{Policy: bad, Key: "k"}}, res)
			assert.ErrorIs(t, err, ratelimit.ErrInvalidPolicy, "Take(%+v)", bad)
		}
	})
	t.Run("fewer results than checks", func(t *testing.T) {
		_, err := st.Take(context.Background(), []ratelimit.Check{{Policy: p, Key: "k"}}, nil)
		assert.Error(t, err)
	})
	for _, tc := range []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		want error
	}{
		{"canceled context", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx, cancel
		}, context.Canceled},
		{"expired context", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), -time.Second)
		}, context.DeadlineExceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := tc.ctx()
			defer cancel()
			start := time.Now()
			_, err := st.Take(ctx, []ratelimit.Check{{Policy: p, Key: "k"}}, res)
			assert.ErrorIs(t, err, tc.want)
			assert.Less(t, time.Since(start), 50*time.Millisecond)
		})
	}
	t.Run("closed", func(t *testing.T) {
		require.NoError(t, st.Close())
		require.NoError(t, st.Close(), "Close() twice")
		_, err := st.Take(context.Background(), []ratelimit.Check{{Policy: p, Key: "k"}}, res)
		assert.ErrorIs(t, err, ratelimit.ErrClosed)
	})
}

// TestRedisStoreMatchesMemory drives a Redis bucket and replays every
// decision on a MemoryStore at the time Redis decided it: the time Redis
// stored for an admitted request, and both ends of the round trip for a
// refused one (which stores nothing). The decisions must agree.
func TestRedisStoreMatchesMemory(t *testing.T) {
	client := newClient(t, redisAddr(t))
	st, prefix := newStore(t, client)
	p := ratelimit.Policy{Name: "diff", Rate: 50, Burst: 3}
	key := bucketKey(prefix, "k", p)

	var admitted []time.Time // Redis times of the admitted decisions
	replay := func(at time.Time) ratelimit.Result {
		m := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{SweepInterval: -1, Resolution: -1})
		defer m.Close()
		for _, a := range admitted {
			require.True(t, m.AllowAt(a, "k", p).Allowed, "replay of an admitted decision")
		}
		return m.AllowAt(at, "k", p)
	}

	rng := rand.New(rand.NewPCG(1, 2))
	sleeps := []time.Duration{0, 0, 0, 2 * time.Millisecond, 5 * time.Millisecond, 15 * time.Millisecond, 30 * time.Millisecond}
	refused := 0
	for step := 0; step < 50; step++ {
		time.Sleep(sleeps[rng.IntN(len(sleeps))])
		before := redisTime(t, client)
		ok, res := take(t, st, "k", p)
		after := redisTime(t, client)
		got := res[0]
		require.Equal(t, ok, got.Allowed)
		if got.Allowed {
			tokens, at := bucket(t, client, key)
			want := replay(at)
			require.True(t, want.Allowed, "step %d: Redis admitted at %v, memory refuses", step, at)
			assert.Equal(t, want.Remaining, got.Remaining, "step %d: Remaining", step)
			within(t, got.Reset, want.Reset, time.Microsecond, "step %d: Reset", step)
			assert.Zero(t, got.RetryAfter, "step %d: RetryAfter", step)
			assert.InDelta(t, float64(p.Burst)-tokens, got.Reset.Seconds()*float64(p.Rate), 1e-6, "step %d: stored tokens", step)
			admitted = append(admitted, at)
			continue
		}
		refused++
		early, late := replay(before), replay(after)
		require.False(t, early.Allowed, "step %d: Redis refused, memory admits already at %v", step, before)
		if late.Allowed {
			continue // a token came due during the round trip
		}
		assert.GreaterOrEqual(t, got.Remaining, early.Remaining, "step %d: Remaining", step)
		assert.LessOrEqual(t, got.Remaining, late.Remaining, "step %d: Remaining", step)
		assert.LessOrEqual(t, got.Reset, early.Reset+time.Microsecond, "step %d: Reset", step)
		assert.GreaterOrEqual(t, got.Reset, late.Reset-time.Microsecond, "step %d: Reset", step)
		assert.LessOrEqual(t, got.RetryAfter, early.RetryAfter+time.Microsecond, "step %d: RetryAfter", step)
		assert.GreaterOrEqual(t, got.RetryAfter, late.RetryAfter-time.Microsecond, "step %d: RetryAfter", step)
		assert.Positive(t, got.RetryAfter, "step %d: RetryAfter of a refusal", step)
	}
	assert.NotZero(t, refused, "the trace refused nothing")
	assert.GreaterOrEqual(t, len(admitted), 10, "the trace admitted little")
}

func TestRedisStoreBurst(t *testing.T) {
	testBurst(t, newClient(t, redisAddr(t)))
}

// testBurst checks that a bucket admits its burst, refuses the next
// request, and admits one more once a token is due.
func testBurst(t *testing.T, client redis.UniversalClient) {
	p := ratelimit.Policy{Name: "burst", Rate: 10, Burst: 5} // a token every 100ms
	const perToken = 100 * time.Millisecond
	st, _ := newStore(t, client)
	// The exact values hold while the burst takes well under a token's
	// time; on a machine too loaded for that, try again on a new key.
	var key string
	for attempt := 0; ; attempt++ {
		key = "burst-" + strconv.Itoa(attempt)
		start := time.Now()
		var all [][]ratelimit.Result
		for i := 0; i <= p.Burst; i++ {
			_, res := take(t, st, key, p)
			all = append(all, res)
		}
		if elapsed := time.Since(start); elapsed > perToken/2 && attempt < 3 {
			t.Logf("burst took %v; again", elapsed)
			continue
		}
		for i, res := range all[:p.Burst] {
			r := res[0]
			require.True(t, r.Allowed, "request %d of the burst refused", i)
			assert.Equal(t, p.Burst-1-i, r.Remaining, "request %d: Remaining", i)
			assert.LessOrEqual(t, r.Reset, time.Duration(i+1)*perToken, "request %d: Reset", i)
			assert.Greater(t, r.Reset, time.Duration(i+1)*perToken-perToken/2, "request %d: Reset", i)
			assert.Zero(t, r.RetryAfter)
		}
		r := all[p.Burst][0]
		require.False(t, r.Allowed, "request after the burst admitted")
		assert.Zero(t, r.Remaining)
		assert.Positive(t, r.RetryAfter)
		assert.LessOrEqual(t, r.RetryAfter, perToken)
		assert.LessOrEqual(t, r.Reset, time.Duration(p.Burst)*perToken)
		break
	}
	// A token and a half later: one more, then refused again.
	time.Sleep(perToken * 3 / 2)
	ok, res := take(t, st, key, p)
	require.True(t, ok, "request a token later refused: %+v", res[0])
	assert.Zero(t, res[0].Remaining)
	ok, res = take(t, st, key, p)
	require.False(t, ok, "second request a token later admitted")
	assert.Positive(t, res[0].RetryAfter)
	assert.LessOrEqual(t, res[0].RetryAfter, perToken*3/4)
}

func TestRedisStoreAtomic(t *testing.T) {
	testAtomic(t, newClient(t, redisAddr(t)))
}

// testAtomic checks that a decision refused by one policy debits none of
// the others and writes nothing.
func testAtomic(t *testing.T, client redis.UniversalClient) {
	st, prefix := newStore(t, client)
	def := ratelimit.Policy{Name: "default", Rate: 1, Burst: 10}
	route := ratelimit.Policy{Name: "route", Rate: 0.5, Burst: 1}
	other := ratelimit.Policy{Name: "other", Rate: 1, Burst: 5}
	ctx := context.Background()

	ok, res := take(t, st, "k", def, route, other)
	require.True(t, ok)
	assert.Equal(t, []int{9, 0, 4}, remainings(res))
	within(t, res[1].Reset, 2*time.Second, 50*time.Millisecond, "route Reset")

	keys := []string{bucketKey(prefix, "k", def), bucketKey(prefix, "k", route), bucketKey(prefix, "k", other)}
	before, err := client.MGet(ctx, keys...).Result()
	require.NoError(t, err)

	ok, res = take(t, st, "k", def, route, other)
	require.False(t, ok, "second request admitted by a burst-1 policy")
	assert.True(t, res[0].Allowed)
	assert.False(t, res[1].Allowed)
	assert.True(t, res[2].Allowed)
	assert.Equal(t, []int{9, 0, 4}, remainings(res), "a refused decision reports the undebited buckets")
	assert.Zero(t, res[0].RetryAfter)
	assert.Greater(t, res[1].RetryAfter, time.Second)
	assert.LessOrEqual(t, res[1].RetryAfter, 2*time.Second)

	after, err := client.MGet(ctx, keys...).Result()
	require.NoError(t, err)
	assert.Equal(t, before, after, "a refused decision wrote to Redis")

	// The other buckets lost nothing.
	ok, res = take(t, st, "k", def, other)
	require.True(t, ok)
	assert.Equal(t, []int{8, 3}, remainings(res))
}

func remainings(res []ratelimit.Result) []int {
	r := make([]int, len(res))
	for i := range res {
		r[i] = res[i].Remaining
	}
	return r
}

func TestRedisStoreTTL(t *testing.T) {
	client := newClient(t, redisAddr(t))
	st, prefix := newStore(t, client)
	ctx := context.Background()

	slow := ratelimit.Policy{Name: "slow", Rate: 1, Burst: 2}
	key := bucketKey(prefix, "k", slow)
	_, res := take(t, st, "k", slow)
	ttl, err := client.PTTL(ctx, key).Result()
	require.NoError(t, err)
	assert.Positive(t, ttl)
	assert.LessOrEqual(t, ttl, (res[0].Reset + time.Millisecond - 1).Truncate(time.Millisecond), "PTTL after one request")
	assert.Greater(t, ttl, 500*time.Millisecond)
	tokens, _ := bucket(t, client, key)
	assert.InDelta(t, 1, tokens, 0.01)

	_, res = take(t, st, "k", slow)
	ttl, err = client.PTTL(ctx, key).Result()
	require.NoError(t, err)
	assert.LessOrEqual(t, ttl, (res[0].Reset + time.Millisecond - 1).Truncate(time.Millisecond), "PTTL after two requests")
	assert.Greater(t, ttl, 1500*time.Millisecond)

	value, err := client.Get(ctx, key).Result()
	require.NoError(t, err)
	ok, _ := take(t, st, "k", slow)
	require.False(t, ok)
	again, err := client.Get(ctx, key).Result()
	require.NoError(t, err)
	assert.Equal(t, value, again, "a refused decision rewrote the bucket")
	ttl2, err := client.PTTL(ctx, key).Result()
	require.NoError(t, err)
	assert.LessOrEqual(t, ttl2, ttl, "a refused decision extended the TTL")

	// A key expires once its bucket is full, and a missing key is full.
	fast := ratelimit.Policy{Name: "fast", Rate: 50, Burst: 1}
	key = bucketKey(prefix, "k", fast)
	take(t, st, "k", fast)
	ttl, err = client.PTTL(ctx, key).Result()
	require.NoError(t, err)
	assert.Positive(t, ttl)
	assert.LessOrEqual(t, ttl, 20*time.Millisecond)
	time.Sleep(30 * time.Millisecond)
	n, err := client.Exists(ctx, key).Result()
	require.NoError(t, err)
	assert.Zero(t, n, "the bucket of a full key still exists")
	ok, res = take(t, st, "k", fast)
	assert.True(t, ok)
	assert.Zero(t, res[0].Remaining)
}

func TestRedisStoreKeys(t *testing.T) {
	hook := &cmdCounter{}
	client := newClient(t, redisAddr(t), hook)
	st, prefix := newStore(t, client)
	ctx := context.Background()
	p := ratelimit.Policy{Name: "p.1_x-y", Rate: 0.5, Burst: 2}
	hashed := func(key string) string {
		sum := sha256.Sum256([]byte(key))
		return hex.EncodeToString(sum[:])
	}
	long := strings.Repeat("k", 129)
	hex64 := hashed("hex")
	tests := []struct {
		name, key, tag string
	}{
		{"plain", "ip:192.0.2.1", "ip:192.0.2.1"},
		{"128 bytes", strings.Repeat("k", 128), strings.Repeat("k", 128)},
		{"129 bytes", long, hashed(long)},
		{"open brace", "a{b", hashed("a{b")},
		{"close brace", "a}b", hashed("a}b")},
		{"empty", "", hashed("")},
		{"looks hashed", hex64, hashed(hex64)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _ = take(t, st, tt.key, p)
			want := fmt.Sprintf("%s:{%s}:p.1_x-y:0.5:2", prefix, tt.tag)
			n, err := client.Exists(ctx, want).Result()
			require.NoError(t, err)
			assert.Equal(t, int64(1), n, "key %q missing", want)
		})
	}

	t.Run("unlimited policies", func(t *testing.T) {
		inf := ratelimit.Policy{Name: "inf", Rate: rate.Inf, Burst: 7}
		hook.reset()
		ok, res := take(t, st, "inf", inf, inf)
		require.True(t, ok)
		assert.Equal(t, []ratelimit.Result{{Allowed: true, Remaining: 7}, {Allowed: true, Remaining: 7}}, res)
		assert.Empty(t, hook.reset(), "commands sent for unlimited policies")

		ok, res = take(t, st, "inf", inf, p, inf)
		require.True(t, ok)
		assert.Equal(t, []int{7, 1, 7}, remainings(res))
		assert.Equal(t, []string{"evalsha"}, hook.reset())
		keys, err := client.Keys(ctx, prefix+":{inf}:*").Result()
		require.NoError(t, err)
		assert.Equal(t, []string{bucketKey(prefix, "inf", p)}, keys)
	})

	t.Run("default prefix", func(t *testing.T) {
		def, err := ratelimit.NewRedisStore(client, ratelimit.RedisConfig{})
		require.NoError(t, err)
		key := strings.TrimPrefix(prefix, "fltest:")
		_, _ = take(t, def, key, p)
		want := bucketKey("faultline:rl", key, p)
		n, err := client.Exists(ctx, want).Result()
		require.NoError(t, err)
		assert.Equal(t, int64(1), n, "key %q missing", want)
		client.Del(ctx, want)
	})
}

// TestRedisStoreSharedLimit runs three Limiters, each with its own client,
// on one Redis: together they admit what one bucket allows.
func TestRedisStoreSharedLimit(t *testing.T) {
	addr := redisAddr(t)
	testSharedLimit(t, func() redis.UniversalClient { return newClient(t, addr) })
}

func testSharedLimit(t *testing.T, newClient func() redis.UniversalClient) {
	p := ratelimit.Policy{Name: "shared", Rate: 100, Burst: 20}
	prefix := testPrefix(t)
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	var handlers []http.Handler
	for range 3 {
		st, err := ratelimit.NewRedisStore(newClient(), ratelimit.RedisConfig{Prefix: prefix, Timeout: testStoreTimeout})
		require.NoError(t, err)
		l, err := ratelimit.New(ratelimit.Config{
			Policy: p,
			Store:  st,
			Key:    func(*http.Request) string { return "hammer" },
			Outage: ratelimit.FailClosed, // a store failure must not pass as admitted
			Logger: quiet,
		})
		require.NoError(t, err)
		t.Cleanup(func() { _ = l.Close(); _ = st.Close() })
		// Warm up (connections, cluster slots) on the hammered key's slot.
		take(t, st, "hammer", ratelimit.Policy{Name: "warm-up", Rate: 1, Burst: 1})
		handlers = append(handlers, middleware.Recover(quietRenderer)(l.Handler(ok)))
	}

	const span = 1200 * time.Millisecond
	var admitted, limited, failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(span)
	for g := range 12 {
		h := handlers[g%len(handlers)]
		wg.Go(func() {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			for time.Now().Before(deadline) {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				switch rec.Code {
				case http.StatusOK:
					admitted.Add(1)
				case http.StatusTooManyRequests:
					limited.Add(1)
				default:
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)

	bound := float64(p.Burst) + float64(p.Rate)*elapsed.Seconds()
	t.Logf("%v: %d admitted (bound %.1f), %d limited, %d failed", elapsed, admitted.Load(), bound, limited.Load(), failed.Load())
	require.Zero(t, failed.Load(), "decisions failed")
	assert.LessOrEqual(t, float64(admitted.Load()), bound+1, "admitted more than one bucket allows")
	assert.GreaterOrEqual(t, float64(admitted.Load()), 0.9*(float64(p.Burst)+float64(p.Rate)*span.Seconds()), "admitted far less than the bucket allows")
	assert.Positive(t, limited.Load())
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

func TestRedisStoreOneRoundTrip(t *testing.T) {
	addr := redisAddr(t)
	hook := &cmdCounter{}
	testOneRoundTrip(t, newClient(t, addr, hook), newClient(t, addr), hook)
}

// testOneRoundTrip counts the commands client sends for N decisions of 1,
// 2 and 3 checks, and the EVALSHAs the server ran, through admin.
func testOneRoundTrip(t *testing.T, client, admin redis.UniversalClient, hook *cmdCounter) {
	st, _ := newStore(t, client)
	policies := []ratelimit.Policy{
		{Name: "a", Rate: 1e6, Burst: 1e6},
		{Name: "b", Rate: 10, Burst: 3}, // refuses some: a refusal is one round trip too
		{Name: "c", Rate: 5, Burst: 1e3},
	}
	const n = 50
	for checks := 1; checks <= 3; checks++ {
		t.Run(strconv.Itoa(checks)+" checks", func(t *testing.T) {
			ps := policies[:checks]
			keys := make([]string, n)
			for i := range keys {
				keys[i] = "rt"
				if i%2 == 1 {
					keys[i] = "rt-" + strconv.Itoa(i) // other keys, other slots
				}
			}
			// Warm up: connections, cluster slots, the script on every node.
			for _, key := range keys {
				take(t, st, key, ps...)
			}
			hook.reset()
			before := serverCalls(t, admin)
			allowed := 0
			for _, key := range keys {
				if ok, _ := take(t, st, key, ps...); ok {
					allowed++
				}
			}
			after := serverCalls(t, admin)
			sent := hook.reset()
			assert.Len(t, sent, n, "commands sent for %d decisions", n)
			assert.Equal(t, slices.Repeat([]string{"evalsha"}, n), sent)
			assert.Equal(t, int64(n), after["evalsha"]-before["evalsha"], "EVALSHAs the server ran for %d decisions", n)
			assert.Zero(t, after["eval"]-before["eval"], "EVALs the server ran")
			assert.Zero(t, after["script|load"]-before["script|load"], "SCRIPT LOADs the server ran")
			t.Logf("%d checks: %d decisions (%d allowed): client sent %d commands, server ran %d EVALSHA (%d GET, %d SET, %d TIME inside)",
				checks, n, allowed, len(sent), after["evalsha"]-before["evalsha"],
				after["get"]-before["get"], after["set"]-before["set"], after["time"]-before["time"])
		})
	}
}

func TestRedisStoreScriptFlush(t *testing.T) {
	addr := redisAddr(t)
	hook := &cmdCounter{}
	client := newClient(t, addr, hook)
	admin := newClient(t, addr)
	st, _ := newStore(t, client)
	ctx := context.Background()
	p := ratelimit.Policy{Name: "flush", Rate: 0.1, Burst: 10}

	_, res := take(t, st, "k", p)
	require.Equal(t, 9, res[0].Remaining)
	for round := 0; round < 3; round++ {
		require.NoError(t, admin.ScriptFlush(ctx).Err())
		hook.reset()
		for i := 0; i < 2; i++ {
			ok, res := take(t, st, "k", p)
			require.True(t, ok)
			assert.Equal(t, 8-2*round-i, res[0].Remaining, "round %d, request %d", round, i)
		}
		assert.Equal(t, []string{"evalsha", "eval", "evalsha"}, hook.reset(),
			"commands of two decisions after SCRIPT FLUSH")
	}
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

// TestRedisStoreOutage stalls, kills and restarts a redis-server of its own
// under Limiters with each Outage policy.
func TestRedisStoreOutage(t *testing.T) {
	srv := startOwnRedis(t)
	client := newClient(t, srv.addr())
	prefix := testPrefix(t)
	st, err := ratelimit.NewRedisStore(client, ratelimit.RedisConfig{Prefix: prefix}) // Timeout 50ms
	require.NoError(t, err)
	defer st.Close()

	rd := quietRenderer
	router := func(o ratelimit.Outage, name string) http.Handler {
		l, err := ratelimit.New(ratelimit.Config{
			Policy: ratelimit.Policy{Name: name, Rate: 1, Burst: 4},
			Store:  st,
			Key:    func(*http.Request) string { return "client" },
			Outage: o,
			Logger: quiet,
		})
		require.NoError(t, err)
		t.Cleanup(func() { _ = l.Close() })
		r := chi.NewRouter()
		r.Use(middleware.RequestID, middleware.Recover(rd), l.Handler)
		r.Get("/", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
		return r
	}
	open := router(ratelimit.FailOpen, "open")
	closed := router(ratelimit.FailClosed, "closed")
	fallback := router(ratelimit.FallBack, "fallback")
	get := func(h http.Handler) (*httptest.ResponseRecorder, time.Duration) {
		rec := httptest.NewRecorder()
		start := time.Now()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		return rec, time.Since(start)
	}
	const bound = 500 * time.Millisecond // Timeout is 50ms
	p := ratelimit.Policy{Name: "direct", Rate: 1, Burst: 4}
	takeTimed := func() (time.Duration, error) {
		var res [1]ratelimit.Result
		start := time.Now()
		_, err := st.Take(context.Background(), []ratelimit.Check{{Policy: p, Key: "client"}}, res[:])
		return time.Since(start), err
	}
	ctx := context.Background()

	// Up: every limiter decides on Redis (a loaded machine may miss the
	// 50ms Timeout now and then, hence Eventually).
	for _, h := range []http.Handler{open, closed, fallback} {
		require.Eventually(t, func() bool {
			rec, _ := get(h)
			return rec.Code == http.StatusOK && rec.Header().Get(ratelimit.HeaderRateLimit) != ""
		}, 5*time.Second, 10*time.Millisecond, "a decision on Redis")
	}
	keys, err := client.Keys(ctx, prefix+":*").Result()
	require.NoError(t, err)
	assert.Len(t, keys, 3)

	t.Run("stalled", func(t *testing.T) {
		srv.signal(syscall.SIGSTOP)
		stopped := true
		defer func() {
			if stopped {
				srv.signal(syscall.SIGCONT)
			}
		}()
		for i := 0; i < 3; i++ {
			d, err := takeTimed()
			assert.Error(t, err)
			assert.Less(t, d, bound, "Take on a stalled server")
		}
		rec, d := get(closed)
		assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
		assert.Less(t, d, bound)
		srv.signal(syscall.SIGCONT)
		stopped = false
		require.Eventually(t, func() bool { _, err := takeTimed(); return err == nil }, 5*time.Second, 20*time.Millisecond,
			"decisions after the server resumed")
	})

	srv.kill()
	t.Run("down", func(t *testing.T) {
		d, err := takeTimed()
		assert.Error(t, err)
		assert.Less(t, d, bound, "Take on a dead server")

		t.Run("FailOpen", func(t *testing.T) {
			rec, d := get(open)
			assert.Equal(t, http.StatusOK, rec.Code)
			assert.Empty(t, rec.Header().Values(ratelimit.HeaderRateLimit), "RateLimit header without a decision")
			assert.Less(t, d, bound)
		})
		t.Run("FailClosed", func(t *testing.T) {
			rec, d := get(closed)
			assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
			assert.Equal(t, "1", rec.Header().Get(ratelimit.HeaderRetryAfter))
			assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
			assert.Contains(t, rec.Body.String(), `"status":503`)
			assert.Less(t, d, bound)
		})
		t.Run("FallBack", func(t *testing.T) {
			// The fallback holds half of the policy: burst 2 at 0.5/s.
			for i, want := range []int{http.StatusOK, http.StatusOK, http.StatusTooManyRequests} {
				rec, d := get(fallback)
				assert.Equal(t, want, rec.Code, "request %d", i)
				assert.Equal(t, fmt.Sprintf(`"fallback";r=%d;t=%d`, max(0, 1-i), 2*min(i+1, 2)),
					rec.Header().Get(ratelimit.HeaderRateLimit), "request %d", i)
				assert.Less(t, d, bound, "request %d", i)
				if want == http.StatusTooManyRequests {
					assert.Equal(t, "2", rec.Header().Get(ratelimit.HeaderRetryAfter))
				}
			}
		})
	})

	srv.start()
	t.Run("restarted", func(t *testing.T) {
		require.Eventually(t, func() bool {
			rec, _ := get(open)
			return rec.Code == http.StatusOK && rec.Header().Get(ratelimit.HeaderRateLimit) != ""
		}, 10*time.Second, 50*time.Millisecond, "FailOpen limiter back on Redis")
		// The fallback's bucket is empty (r=0); the new server's is full.
		fromRedis := regexp.MustCompile(`^"fallback";r=[23];t=[12]$`)
		require.Eventually(t, func() bool {
			rec, _ := get(fallback)
			return rec.Code == http.StatusOK && fromRedis.MatchString(rec.Header().Get(ratelimit.HeaderRateLimit))
		}, 5*time.Second, 10*time.Millisecond, "FallBack limiter back on Redis")
		keys, err := client.Keys(ctx, prefix+":*").Result()
		require.NoError(t, err)
		slices.Sort(keys)
		assert.Equal(t, []string{
			bucketKey(prefix, "client", ratelimit.Policy{Name: "fallback", Rate: 1, Burst: 4}),
			bucketKey(prefix, "client", ratelimit.Policy{Name: "open", Rate: 1, Burst: 4}),
		}, keys)
	})
}

func TestRedisStoreCluster(t *testing.T) {
	clusterAddrs(t)
	t.Run("burst", func(t *testing.T) { testBurst(t, newClusterClient(t)) })
	t.Run("atomic", func(t *testing.T) { testAtomic(t, newClusterClient(t)) })
	t.Run("shared limit", func(t *testing.T) {
		testSharedLimit(t, func() redis.UniversalClient { return newClusterClient(t) })
	})
	t.Run("one round trip", func(t *testing.T) {
		hook := &cmdCounter{}
		testOneRoundTrip(t, newClusterClient(t, hook), newClusterClient(t), hook)
	})
	t.Run("keys on every node", func(t *testing.T) {
		client := newClusterClient(t)
		st, prefix := newStore(t, client)
		a := ratelimit.Policy{Name: "a", Rate: 1, Burst: 2}
		b := ratelimit.Policy{Name: "b", Rate: 1, Burst: 3}
		for i := 0; i < 30; i++ {
			key := "key-" + strconv.Itoa(i)
			ok, res := take(t, st, key, a, b)
			require.True(t, ok, "key %s", key)
			assert.Equal(t, []int{1, 2}, remainings(res), "key %s", key)
		}
		var mu sync.Mutex
		var nodes int
		require.NoError(t, client.ForEachMaster(context.Background(), func(ctx context.Context, c *redis.Client) error {
			keys, err := c.Keys(ctx, prefix+":*").Result()
			mu.Lock()
			defer mu.Unlock()
			if len(keys) > 0 {
				nodes++
			}
			return err
		}))
		assert.Equal(t, 3, nodes, "masters holding buckets")
	})
}

func ExampleNewRedisStore() {
	client := redis.NewClient(&redis.Options{
		Addr:                  "127.0.0.1:6379",
		ContextTimeoutEnabled: true, // so that RedisConfig.Timeout bounds every decision
	})
	defer client.Close()
	store, err := ratelimit.NewRedisStore(client, ratelimit.RedisConfig{Prefix: "orders:rl"})
	if err != nil {
		panic(err)
	}
	limiter := ratelimit.MustNew(ratelimit.Config{
		Environment: ratelimit.EnvProduction,
		Store:       store,
		Outage:      ratelimit.FallBack, // in memory, at half the limits, while Redis is away
	})
	defer limiter.Close()

	r := chi.NewRouter()
	r.Use(middleware.RequestID, middleware.Recover(nil), limiter.Handler)
	r.With(limiter.Route("reports", ratelimit.Policy{Rate: 1, Burst: 2})).
		Get("/reports", func(w http.ResponseWriter, r *http.Request) {})
	// http.ListenAndServe(":8080", r)
}
