package ratelimit_test

import (
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/faultline-go/faultline/ratelimit"
)

func TestMemoryMaxKeysEvictsClosestToFull(t *testing.T) {
	s := newMemStore(t, ratelimit.MemoryConfig{Shards: 1, MaxKeys: 2})
	fast := ratelimit.Policy{Name: "fast", Rate: 100, Burst: 3}
	slow := ratelimit.Policy{Name: "slow", Rate: rate.Every(time.Hour), Burst: 3}
	s.AllowAt(base0, "a", fast) // full again at base0+10ms
	s.AllowAt(base0, "b", slow) // full again at base0+1h
	s.AllowAt(base0, "c", slow) // evicts a
	assert.Equal(t, 2, s.Len(), "Len() = %d, want 2 (MaxKeys)", s.Len())
	got := s.AllowAt(base0, "b", slow)
	assert.Equal(t, 1, got.Remaining, "AllowAt(b).Remaining = %d, want 1: b was kept", got.Remaining)
	got = s.AllowAt(base0, "a", fast) // a starts over full, and evicts c
	assert.Equal(t, 2, got.Remaining, "AllowAt(a).Remaining = %d, want 2: a was evicted", got.Remaining)
}

func TestMemoryFlood(t *testing.T) {
	if testing.Short() {
		t.Skip("floods a million keys")
	}
	if raceEnabled() {
		t.Skip("floods a million keys, too slow under -race, and measures the heap of a build without it")
	}
	const n = 1_000_000
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "client-" + strconv.Itoa(i)
	}
	p := ratelimit.Policy{Name: "p", Rate: 1, Burst: 10}

	t.Run("MaxKeys=100000", func(t *testing.T) {
		const maxKeys = 100_000
		cfg := ratelimit.MemoryConfig{MaxKeys: maxKeys, SweepInterval: -1, Resolution: -1}
		growth, s := heapGrowth(keys, cfg, p)
		defer s.Close()
		// 256 shards of ceil(100000/256) = 391 keys.
		limit := (maxKeys + 255) / 256 * 256
		assert.LessOrEqual(t, s.Len(), limit, "Len() = %d, want <= %d", s.Len(), limit)
		assert.Greater(t, s.Len(), maxKeys*9/10, "Len() = %d, want close to MaxKeys %d", s.Len(), maxKeys)
		// A map slot holds an 8-byte hash and a 24-byte cell plus a control
		// byte: 33 bytes. A shard holds at most 391 keys, which a fresh
		// Swiss table keeps in 512 slots (17 KiB, 43 B/key). Under
		// eviction churn every insert follows a delete, the deletes leave
		// tombstones, and the tables settle at about twice that: 105 B/key
		// measured, the same after 1M or 5M distinct keys. 128 B/key (about
		// 1,000 slots per shard) bounds that steady state with room for
		// the runtime's variance; a store that kept evicted keys, or maps
		// that kept growing under churn, would cross it long before the
		// millionth key. The slack covers the shards' map headers and
		// directories.
		bound := int64(128*maxKeys + 256*1024)
		t.Logf("heap growth %d bytes for %d live keys (%.1f B/key); bound %d", growth, s.Len(), float64(growth)/float64(s.Len()), bound)
		assert.Less(t, growth, bound, "heap growth = %d bytes, want < %d", growth, bound)
	})

	t.Run("default MaxKeys", func(t *testing.T) {
		growth, s := heapGrowth(keys, ratelimit.MemoryConfig{SweepInterval: -1, Resolution: -1}, p)
		defer s.Close()
		// MaxKeys (1<<20) is enforced per shard (4,096 each): the fullest
		// of 256 shards receiving about 3,906 keys each may evict a few.
		live := s.Len()
		require.GreaterOrEqual(t, live, n-n/1000, "Len() = %d, want about %d (MaxKeys 1<<20 exceeds them)", live, n)
		perKey := float64(growth) / float64(live)
		t.Logf("%.1f live bytes per key for %d keys (budget 64)", perKey, live)
		assert.Less(t, perKey, 100.0, "live bytes per key = %.1f, want < 100", perKey)
	})
}

// raceEnabled reports whether the test binary was built with -race.
func raceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, st := range bi.Settings {
		if st.Key == "-race" {
			return st.Value == "true"
		}
	}
	return false
}

// heapGrowth returns the live heap a MemoryStore made with cfg holds after
// one decision on each of keys (allocated beforehand, so not counted).
func heapGrowth(keys []string, cfg ratelimit.MemoryConfig, p ratelimit.Policy) (int64, *ratelimit.MemoryStore) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s := ratelimit.NewMemoryStore(cfg)
	for _, k := range keys {
		s.AllowAt(base0, k, p)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(keys)
	return int64(after.HeapAlloc) - int64(before.HeapAlloc), s
}

func TestMemorySweeper(t *testing.T) {
	s := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{Shards: 1, SweepInterval: 2 * time.Millisecond, Resolution: -1})
	defer s.Close()
	fast := ratelimit.Policy{Name: "fast", Rate: 1000, Burst: 3} // full 1-3ms after use
	slow := ratelimit.Policy{Name: "slow", Rate: rate.Every(time.Hour), Burst: 3}
	for i := 0; i < 100; i++ {
		s.Allow("k"+strconv.Itoa(i), fast)
	}
	s.Allow("slow", slow)
	require.Equal(t, 101, s.Len(), "Len() after 101 keys")
	// Sweeping happens as keys are added, once the interval has passed.
	time.Sleep(5 * time.Millisecond)
	s.Allow("trigger", slow)
	assert.Equal(t, 2, s.Len(), "Len() = %d after a sweep, want 2 (slow and trigger)", s.Len())

	// A dropped bucket decides like a fresh one.
	fresh := s.Allow("never-seen", fast)
	dropped := s.Allow("k0", fast)
	assert.Equal(t, fresh, dropped, "Allow(dropped key) = %+v, want %+v (a fresh key's)", dropped, fresh)
	// The slow bucket, never full, was kept.
	got := s.Allow("slow", slow)
	assert.Equal(t, 1, got.Remaining, "Allow(slow).Remaining = %d, want 1: the sweep kept the bucket", got.Remaining)

	// Sweep drops full buckets at once.
	time.Sleep(5 * time.Millisecond)
	s.Sweep()
	assert.Equal(t, 2, s.Len(), "Len() after Sweep() = %d, want 2 (slow and trigger)", s.Len())
}

func TestMemorySweepDisabled(t *testing.T) {
	s := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{Shards: 1, SweepInterval: -1, Resolution: -1})
	defer s.Close()
	fast := ratelimit.Policy{Name: "fast", Rate: 1000, Burst: 3}
	s.Allow("a", fast)
	time.Sleep(5 * time.Millisecond)
	s.Allow("b", fast)
	assert.Equal(t, 2, s.Len(), "Len() with sweeping disabled = %d, want 2", s.Len())
}

func TestMemoryCloseStopsGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	s := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{SweepInterval: time.Millisecond, Resolution: time.Millisecond})
	p := ratelimit.Policy{Name: "p", Rate: rate.Every(time.Hour), Burst: 1}
	s.Allow("k", p)
	require.NoError(t, s.Close(), "Close() = non-nil, want nil")
	require.NoError(t, s.Close(), "second Close() = non-nil, want nil")
	waitGoroutines(t, before)
	// Decisions keep working after Close.
	got := s.Allow("k", p)
	assert.False(t, got.Allowed, "Allow() after Close = %+v, want refused (the bucket is empty)", got)
	assert.True(t, s.Allow("other", p).Allowed, "Allow(other) after Close = refused, want allowed")
	waitGoroutines(t, before)
}

// waitGoroutines waits up to a second for the number of goroutines to fall
// to want. (Not require.Eventually, whose condition runs in a goroutine of
// its own.)
func waitGoroutines(t *testing.T, want int) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	n := runtime.NumGoroutine()
	for ; n > want && time.Now().Before(deadline); n = runtime.NumGoroutine() {
		time.Sleep(time.Millisecond)
	}
	if n > want {
		buf := make([]byte, 1<<16)
		buf = buf[:runtime.Stack(buf, true)]
		t.Fatalf("NumGoroutine() = %d after 1s, want <= %d; goroutines:\n%s", n, want, buf)
	}
}

func TestMemoryCloseWithoutGoroutines(t *testing.T) {
	s := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{SweepInterval: -1, Resolution: -1})
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.Close()
		_ = s.Close()
	}()
	select {
	case <-done:
	case <-time.After(time.Second):
		t.Fatal("Close() of a store without sweeper has not returned after 1s")
	}
}

// TestKeyLimiter checks that a policy bound with Limiter decides exactly as
// Allow with that policy does, on the same buckets.
func TestKeyLimiter(t *testing.T) {
	policies := []ratelimit.Policy{
		{Name: "sandbox", Rate: 10, Burst: 10},
		{Name: "slow", Rate: rate.Every(1500 * time.Millisecond), Burst: 3},
		{Name: "fast", Rate: 1000, Burst: 1},
	}
	for _, p := range policies {
		t.Run(p.Name, func(t *testing.T) {
			bound := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{})
			defer bound.Close()
			plain := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{})
			defer plain.Close()
			k, err := bound.Limiter(p)
			require.NoError(t, err)
			now := time.Unix(1_800_000_000, 0)
			r := rand.New(rand.NewPCG(7, uint64(p.Burst)))
			for i := 0; i < 2000; i++ {
				now = now.Add(time.Duration(r.ExpFloat64() * float64(time.Second) / float64(p.Rate) * 0.6))
				got, want := k.AllowAt(now, "key"), plain.AllowAt(now, "key", p)
				require.Equal(t, want.Allowed, got.Allowed, "step %d: KeyLimiter.AllowAt.Allowed = %v, want %v", i, got.Allowed, want.Allowed)
				require.Equal(t, want.Remaining, got.Remaining, "step %d: Remaining", i)
				require.InDelta(t, float64(want.Reset), float64(got.Reset), 2, "step %d: Reset = %v, want %v within 2ns", i, got.Reset, want.Reset)
				require.Equal(t, want.RetryAfter, got.RetryAfter, "step %d: RetryAfter", i)
			}
			// The bound policy shares the store's buckets with Allow.
			shared := bound.AllowAt(now, "key", p)
			again := k.AllowAt(now, "key")
			assert.LessOrEqual(t, again.Remaining, shared.Remaining, "KeyLimiter and AllowAt use separate buckets")
			assert.Equal(t, 1, bound.Len(), "Len() = %d, want 1 bucket for one policy and key", bound.Len())
			assert.True(t, k.Allow("other").Allowed, "Allow(other) = refused, want allowed")
		})
	}
}
