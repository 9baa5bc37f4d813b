package ratelimit_test

import (
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

// conserve is one run of TestMemoryConservedWhileTableChanges: hot buckets
// that never refill, decided on by many goroutines at once while others
// add short-lived buckets to the same shards (so tables grow and, under a
// small MaxKeys, evict) and sweep them away.
type conserve struct {
	s     *ratelimit.MemoryStore
	at    time.Time // every decision's time: no bucket refills
	hot   ratelimit.Policy
	churn ratelimit.Policy
	keys  []string       // the hot buckets' keys
	taken []atomic.Int64 // per hot key: tokens taken and kept
}

const conserveHot = 4 // fewer than evict's 8 samples: a sample always holds a churned bucket

func newConserve(t *testing.T, cfg ratelimit.MemoryConfig) *conserve {
	c := &conserve{
		hot:   ratelimit.Policy{Name: "hot", Rate: rate.Every(time.Hour), Burst: 300},
		churn: ratelimit.Policy{Name: "churn", Rate: ratelimit.MaxRate, Burst: 1},
		taken: make([]atomic.Int64, conserveHot),
	}
	c.s = newMemStore(t, cfg)
	// Sweep, on the real clock, then finds every churned bucket full and
	// no hot one (each takes an hour per token to refill).
	c.at = time.Now()
	for i := range conserveHot {
		c.keys = append(c.keys, "hot"+strconv.Itoa(i))
	}
	return c
}

// decide takes single tokens, through the store and through a KeyLimiter.
func (c *conserve) decide(t *testing.T, w, n int) {
	kl, err := c.s.Limiter(c.hot)
	require.NoError(t, err)
	for i := range n {
		k := (w + i) % conserveHot
		var r ratelimit.Result
		if i%2 == 0 {
			r = c.s.AllowAt(c.at, c.keys[k], c.hot)
		} else {
			r = kl.AllowAt(c.at, c.keys[k])
		}
		if r.Allowed {
			c.taken[k].Add(1)
		}
	}
}

// takeMulti takes two hot buckets at once, or a hot one with a new
// churned one, and refunds every other decision it won.
func (c *conserve) takeMulti(t *testing.T, w, n int) {
	var res [2]ratelimit.Result
	for i := range n {
		a, b := (w+i)%conserveHot, (w+i+1)%conserveHot
		checks := []ratelimit.Check{{Policy: c.hot, Key: c.keys[a]}, {Policy: c.hot, Key: c.keys[b]}}
		if i%3 == 0 {
			checks[1] = ratelimit.Check{Policy: c.churn, Key: "multi" + strconv.Itoa(w) + "-" + strconv.Itoa(i)}
		}
		ok, err := c.s.TakeAt(c.at, checks, res[:])
		if err != nil {
			t.Errorf("TakeAt(%s, %s) error = %v, want nil", checks[0].Key, checks[1].Key, err)
			return
		}
		switch {
		case !ok:
		case i%2 == 1:
			if err := c.s.RefundAt(c.at, checks, res[:]); err != nil || !res[0].Allowed {
				t.Errorf("RefundAt(%s, %s) = %+v, %v, want allowed, nil", checks[0].Key, checks[1].Key, res[0], err)
			}
		case i%3 == 0:
			c.taken[a].Add(1)
		default:
			c.taken[a].Add(1)
			c.taken[b].Add(1)
		}
	}
}

// addChurn decides n new short-lived buckets, a nanosecond apart so that
// a store sweeping as keys are added sweeps the earlier ones.
func (c *conserve) addChurn(w, n int) {
	for i := range n {
		c.s.AllowAt(c.at.Add(time.Duration(i)), "churn"+strconv.Itoa(w)+"-"+strconv.Itoa(i), c.churn)
	}
}

// TestMemoryConservedWhileTableChanges decides on a few buckets from many
// goroutines at a fixed time while their shards grow, evict and sweep, and
// mixes in multi-check decisions and refunds: each bucket admits exactly
// its burst, and refunds give back exactly what they took.
func TestMemoryConservedWhileTableChanges(t *testing.T) {
	tests := []struct {
		name string
		cfg  ratelimit.MemoryConfig
	}{
		{"grow, 1 shard", ratelimit.MemoryConfig{Shards: 1}},
		{"grow, 2 shards", ratelimit.MemoryConfig{Shards: 2}},
		{"evict, MaxKeys=48", ratelimit.MemoryConfig{Shards: 1, MaxKeys: 48}},
		{"evict, sweep as keys are added", ratelimit.MemoryConfig{Shards: 2, MaxKeys: 96, SweepInterval: time.Nanosecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newConserve(t, tt.cfg)
			var wg sync.WaitGroup
			var churning sync.WaitGroup
			start := make(chan struct{})
			run := func(g *sync.WaitGroup, f func()) {
				g.Add(1)
				go func() {
					defer g.Done()
					<-start
					f()
				}()
			}
			for w := range 3 {
				run(&wg, func() { c.decide(t, w, 700) })
			}
			for w := range 2 {
				run(&wg, func() { c.takeMulti(t, w, 400) })
			}
			for w := range 2 {
				run(&churning, func() { c.addChurn(w, 1500) })
			}
			done := make(chan struct{})
			run(&wg, func() {
				for {
					select {
					case <-done:
						return
					default:
						c.s.Sweep()
					}
				}
			})
			close(start)
			churning.Wait()
			close(done)
			wg.Wait()
			c.check(t)
		})
	}
}

// check drains every hot bucket and asserts that, in all, it admitted
// exactly its burst.
func (c *conserve) check(t *testing.T) {
	for k, key := range c.keys {
		left := 0
		for c.s.AllowAt(c.at, key, c.hot).Allowed {
			left++
			require.LessOrEqual(t, left, c.hot.Burst, "AllowAt(%s) keeps admitting", key)
		}
		got := int(c.taken[k].Load()) + left
		assert.Equal(t, c.hot.Burst, got, "bucket %s: admitted %d concurrently + %d after = %d, want the burst %d",
			key, c.taken[k].Load(), left, got, c.hot.Burst)
	}
}
