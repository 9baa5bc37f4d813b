package redisstore_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/faultline-go/faultline/ratelimit"
	"github.com/faultline-go/faultline/ratelimit/redisstore"
)

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
	assert.LessOrEqual(t, ttl, res[0].Reset.Truncate(time.Millisecond)+time.Millisecond, "PTTL after one request")
	assert.Greater(t, ttl, 500*time.Millisecond)
	tokens, _ := bucket(t, client, key)
	assert.InDelta(t, 1, tokens, 0.01)

	_, res = take(t, st, "k", slow)
	ttl, err = client.PTTL(ctx, key).Result()
	require.NoError(t, err)
	assert.LessOrEqual(t, ttl, res[0].Reset.Truncate(time.Millisecond)+time.Millisecond, "PTTL after two requests")
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
	assert.LessOrEqual(t, ttl, 21*time.Millisecond, "PTTL: the 20ms to full, and a millisecond")
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
		def, err := redisstore.New(client, redisstore.Config{})
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

// TestRedisStoreSharedLimit runs three stores, each with its own client,
// on one Redis: together they admit what one bucket allows.
func TestRedisStoreSharedLimit(t *testing.T) {
	addr := redisAddr(t)
	testSharedLimit(t, func() redis.UniversalClient { return newClient(t, addr) })
}

// testSharedLimit hammers one key from 12 goroutines over three stores
// with a prefix in common, for a wall-clock span: the admitted decisions
// stay within burst + rate × elapsed, and come near it.
func testSharedLimit(t *testing.T, newClient func() redis.UniversalClient) {
	p := ratelimit.Policy{Name: "shared", Rate: 100, Burst: 20}
	prefix := testPrefix(t)
	var stores []ratelimit.Store
	for range 3 {
		st, err := redisstore.New(newClient(), redisstore.Config{Prefix: prefix, Timeout: testStoreTimeout})
		require.NoError(t, err)
		t.Cleanup(func() { _ = st.Close() })
		// Warm up (connections, cluster slots) on the hammered key's slot.
		take(t, st, "hammer", ratelimit.Policy{Name: "warm-up", Rate: 1, Burst: 1})
		stores = append(stores, st)
	}

	const span = 1200 * time.Millisecond
	var admitted, limited, failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(span)
	for g := range 12 {
		st := stores[g%len(stores)]
		wg.Go(func() {
			checks := []ratelimit.Check{{Policy: p, Key: "hammer"}}
			var res [1]ratelimit.Result
			for time.Now().Before(deadline) {
				ok, err := st.Take(context.Background(), checks, res[:])
				switch {
				case err != nil:
					failed.Add(1)
				case ok:
					admitted.Add(1)
				default:
					limited.Add(1)
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
	// The bucket may end the span holding up to its burst, and a starved
	// machine wastes some refill; a store that took two tokens a decision
	// would admit about half of the refill.
	low := 0.8 * float64(p.Rate) * span.Seconds()
	assert.GreaterOrEqual(t, float64(admitted.Load()), low, "admitted = %d, want at least %.0f: far less than the bucket allows", admitted.Load(), low)
	assert.Positive(t, limited.Load())
}

// TestRedisStoreOutage stalls, kills and restarts a redis-server of its
// own: a stalled server costs the time budget and says so, a dead one
// fails at once, and decisions succeed again once the server is back.
func TestRedisStoreOutage(t *testing.T) {
	srv := startOwnRedis(t)
	client := redis.NewClient(redisstore.Options(&redis.Options{Addr: srv.addr()}))
	t.Cleanup(func() { _ = client.Close() })
	prefix := testPrefix(t)
	open := func(timeout time.Duration) *redisstore.Store {
		st, err := redisstore.New(client, redisstore.Config{Prefix: prefix, Timeout: timeout})
		require.NoError(t, err)
		t.Cleanup(func() { _ = st.Close() })
		return st
	}
	fast, patient := open(0), open(2*time.Second) // budgets of 50ms and 2s
	head := "redisstore: " + srv.addr() + ": evalsha: "
	// A loaded machine may miss the 50ms budget now and then.
	require.Eventually(t, func() bool { _, err := takeErr(context.Background(), fast); return err == nil }, 5*time.Second, 10*time.Millisecond,
		"a decision on Redis")

	t.Run("stalled", func(t *testing.T) {
		srv.signal(syscall.SIGSTOP)
		stopped := true
		defer func() {
			if stopped {
				srv.signal(syscall.SIGCONT)
			}
		}()
		for i := 0; i < 3; i++ {
			d, err := takeErr(context.Background(), fast)
			assert.EqualError(t, err, head+"no reply within 50ms", "Take() %d on a stalled server", i)
			assert.ErrorIs(t, err, redisstore.ErrTimeout)
			assert.Less(t, d, time.Second, "Take() %d on a stalled server took %v, budget 50ms", i, d)
		}
		srv.signal(syscall.SIGCONT)
		stopped = false
		require.Eventually(t, func() bool { _, err := takeErr(context.Background(), fast); return err == nil }, 5*time.Second, 20*time.Millisecond,
			"decisions after the server resumed")
	})

	srv.kill()
	t.Run("down", func(t *testing.T) {
		for i := 0; i < 3; i++ {
			d, err := takeErr(context.Background(), patient)
			require.Error(t, err)
			assert.True(t, strings.HasPrefix(err.Error(), head), "Take() = %q, want it to start %q", err, head)
			assert.ErrorIs(t, err, redisstore.ErrUnavailable, "Take() %d on a dead server", i)
			assert.Less(t, d, time.Second, "Take() %d on a dead server took %v of its 2s budget", i, d)
		}
	})

	srv.start()
	t.Run("restarted", func(t *testing.T) {
		require.Eventually(t, func() bool { _, err := takeErr(context.Background(), fast); return err == nil }, 10*time.Second, 50*time.Millisecond,
			"decisions after the server restarted")
	})
}

func TestRedisStoreCluster(t *testing.T) {
	clusterAddrs(t)
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
