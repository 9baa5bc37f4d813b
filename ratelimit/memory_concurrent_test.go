package ratelimit_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/faultline-go/faultline/ratelimit"
)

// TestMemoryConcurrentOneKey runs 16 goroutines deciding on one key for
// 400ms. The upper bound, burst + rate × span with the span from before the
// first decision to after the last, holds however the goroutines are
// scheduled. For the lower bound, x/time/rate replays the decision times in
// order: it tells what a sequential limiter would have admitted at those
// instants, so a starved goroutine (under -race on a loaded machine) does
// not make the test fail, and the store must admit at least half of it.
func TestMemoryConcurrentOneKey(t *testing.T) {
	p := ratelimit.Policy{Name: "p", Rate: 200, Burst: 20}
	const workers = 16
	const span = 400 * time.Millisecond
	for _, res := range []time.Duration{-1, 0} {
		t.Run("resolution="+res.String(), func(t *testing.T) {
			// Start the clock before the store: a coarse clock's first
			// reading is taken when the store is made.
			start := time.Now()
			s := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{Resolution: res, SweepInterval: -1})
			defer s.Close()
			var admitted atomic.Int64
			var mu sync.Mutex // guards times and last
			var times []time.Duration
			var last time.Duration
			var wg sync.WaitGroup
			for w := 0; w < workers; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					var mine []time.Duration
					var done time.Duration
					for {
						before := time.Since(start)
						if before >= span {
							break
						}
						if s.Allow("shared", p).Allowed {
							admitted.Add(1)
						}
						done = time.Since(start)
						mine = append(mine, before)
					}
					mu.Lock()
					times = append(times, mine...)
					last = max(last, done)
					mu.Unlock()
				}()
			}
			wg.Wait()
			got := admitted.Load()
			bound := float64(p.Burst) + float64(p.Rate)*last.Seconds()
			assert.LessOrEqual(t, float64(got), bound, "admitted = %d, want <= burst + rate × %v = %.1f", got, last, bound)

			slices.Sort(times)
			lim := rate.NewLimiter(p.Rate, p.Burst)
			replay := 0
			for _, d := range times {
				if lim.AllowN(start.Add(d), 1) {
					replay++
				}
			}
			t.Logf("%d of %d decisions admitted, last at %v; bound %.1f; sequential replay admits %d", got, len(times), last, bound, replay)
			assert.GreaterOrEqual(t, got, int64(replay/2), "admitted = %d, want >= half of the %d a sequential replay admits", got, replay)
			assert.Greater(t, replay, 2*p.Burst, "the replay admits %d, want more than twice the burst: refills must count", replay)
		})
	}
}

func TestMemoryConcurrentDistinctKeys(t *testing.T) {
	s := newMemStore(t, ratelimit.MemoryConfig{Shards: 4, MaxKeys: 1 << 16})
	p := ratelimit.Policy{Name: "p", Rate: 1, Burst: 5}
	const workers, keysPer = 16, 200
	var wg sync.WaitGroup
	counts := make([]int, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < keysPer; k++ {
				key := fmt.Sprintf("w%d-k%d", w, k)
				for i := 0; i < p.Burst+3; i++ {
					if s.AllowAt(base0, key, p).Allowed {
						counts[w]++
					}
				}
			}
		}()
	}
	wg.Wait()
	for w, n := range counts {
		assert.Equal(t, keysPer*p.Burst, n, "worker %d: allowed = %d, want %d (burst per key)", w, n, keysPer*p.Burst)
	}
	assert.Equal(t, workers*keysPer, s.Len(), "Len() = %d, want %d", s.Len(), workers*keysPer)
}

// TestMemoryConcurrentTake runs multi-check decisions whose buckets lie in
// overlapping shards, in every order: the shard locks must not deadlock and
// every decision must count.
func TestMemoryConcurrentTake(t *testing.T) {
	s := newMemStore(t, ratelimit.MemoryConfig{Shards: 8})
	p := ratelimit.Policy{Name: "p", Rate: 1, Burst: 1 << 20}
	var wg sync.WaitGroup
	const workers, takes = 8, 2000
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			var checks [3]ratelimit.Check
			var res [3]ratelimit.Result
			for i := 0; i < takes; i++ {
				first := rng.IntN(64) // three distinct keys: a bucket named twice is one bucket
				for j := range checks {
					checks[j] = ratelimit.Check{Policy: p, Key: "k" + strconv.Itoa((first+21*j)%64)}
				}
				ok, err := s.TakeAt(base0, checks[:], res[:])
				if err != nil || !ok {
					t.Errorf("TakeAt() = %v, %v, want true, nil", ok, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	// Every check took one token of its bucket.
	taken := 0
	for k := 0; k < 64; k++ {
		r := s.AllowAt(base0, "k"+strconv.Itoa(k), p)
		taken += p.Burst - 1 - r.Remaining
	}
	assert.Equal(t, workers*takes*3, taken, "tokens taken = %d, want %d (one per check)", taken, workers*takes*3)
}

// A bucket named twice in one decision is one bucket: decided once, debited
// once, as the Redis store does.
func TestMemoryTakeSameBucketTwice(t *testing.T) {
	for _, shards := range []int{1, 256} {
		t.Run("shards="+strconv.Itoa(shards), func(t *testing.T) {
			s := newMemStore(t, ratelimit.MemoryConfig{Shards: shards})
			p := ratelimit.Policy{Name: "p", Rate: 1, Burst: 2}
			other := ratelimit.Policy{Name: "other", Rate: 1, Burst: 9}
			checks := []ratelimit.Check{{Policy: p, Key: "k"}, {Policy: other, Key: "k"}, {Policy: p, Key: "k"}}
			res := make([]ratelimit.Result, 3)
			ok, err := s.TakeAt(base0, checks, res)
			require.NoError(t, err, "TakeAt() error = %v, want nil", err)
			require.True(t, ok, "TakeAt() = false, want true")
			assert.Equal(t, 1, res[0].Remaining, "TakeAt() res[0].Remaining = %d, want 1", res[0].Remaining)
			assert.Equal(t, res[0], res[2], "TakeAt() res[2] = %+v, want res[0] %+v: the same bucket", res[2], res[0])

			ok, err = s.TakeAt(base0, checks, res)
			require.NoError(t, err, "second TakeAt() error = %v, want nil", err)
			assert.True(t, ok, "second TakeAt() = false, want true: p had one token left")
			ok, err = s.TakeAt(base0, checks, res)
			require.NoError(t, err, "third TakeAt() error = %v, want nil", err)
			assert.False(t, ok, "third TakeAt() = true, want false: p is empty")
			assert.Equal(t, res[0], res[2], "refused TakeAt() res[2] = %+v, want res[0] %+v", res[2], res[0])
			got := s.AllowAt(base0, "k", other)
			assert.Equal(t, 6, got.Remaining, "AllowAt(other).Remaining = %d, want 6 (two allowed decisions took one each)", got.Remaining)
		})
	}
}
