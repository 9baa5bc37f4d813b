package ratelimit_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
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

var diffSeed = flag.Uint64("ratelimit.seed", 20261124, "seed of TestMemoryMatchesXTimeRate's traces")

// base0 is an arbitrary fixed instant for AllowAt and TakeAt.
var base0 = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

// newMemStore returns a MemoryStore without background goroutines, closed at
// the end of the test.
func newMemStore(t testing.TB, cfg ratelimit.MemoryConfig) *ratelimit.MemoryStore {
	t.Helper()
	if cfg.SweepInterval == 0 {
		cfg.SweepInterval = -1
	}
	if cfg.Resolution == 0 {
		cfg.Resolution = -1
	}
	s := ratelimit.NewMemoryStore(cfg)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// base0Plus is base0 plus d.
func base0Plus(d time.Duration) time.Time { return base0.Add(d) }

func TestMemoryAllowAtArithmetic(t *testing.T) {
	// Rate 4 and whole-ms offsets keep every number exact in binary
	// floating point: one token every 250ms.
	p := ratelimit.Policy{Name: "p", Rate: 4, Burst: 3}
	type step struct {
		at   time.Duration
		want ratelimit.Result
	}
	tests := []struct {
		name   string
		policy ratelimit.Policy
		steps  []step
	}{
		{"burst admitted then refused", p, []step{
			{0, ratelimit.Result{Allowed: true, Remaining: 2, Reset: 250 * time.Millisecond}},
			{0, ratelimit.Result{Allowed: true, Remaining: 1, Reset: 500 * time.Millisecond}},
			{0, ratelimit.Result{Allowed: true, Remaining: 0, Reset: 750 * time.Millisecond}},
			{0, ratelimit.Result{Remaining: 0, Reset: 750 * time.Millisecond, RetryAfter: 250 * time.Millisecond}},
			{0, ratelimit.Result{Remaining: 0, Reset: 750 * time.Millisecond, RetryAfter: 250 * time.Millisecond}},
		}},
		{"refill after 1/rate", p, []step{
			{0, ratelimit.Result{Allowed: true, Remaining: 2, Reset: 250 * time.Millisecond}},
			{0, ratelimit.Result{Allowed: true, Remaining: 1, Reset: 500 * time.Millisecond}},
			{0, ratelimit.Result{Allowed: true, Remaining: 0, Reset: 750 * time.Millisecond}},
			{125 * time.Millisecond, ratelimit.Result{Remaining: 0, Reset: 625 * time.Millisecond, RetryAfter: 125 * time.Millisecond}},
			{250 * time.Millisecond, ratelimit.Result{Allowed: true, Remaining: 0, Reset: 750 * time.Millisecond}},
			{500 * time.Millisecond, ratelimit.Result{Allowed: true, Remaining: 0, Reset: 750 * time.Millisecond}},
			{1000 * time.Millisecond, ratelimit.Result{Allowed: true, Remaining: 1, Reset: 500 * time.Millisecond}},
			// Long idle: the bucket is full again, never fuller.
			{time.Hour, ratelimit.Result{Allowed: true, Remaining: 2, Reset: 250 * time.Millisecond}},
		}},
		{"a refused decision changes nothing", ratelimit.Policy{Name: "p", Rate: 4, Burst: 1}, []step{
			{0, ratelimit.Result{Allowed: true, Remaining: 0, Reset: 250 * time.Millisecond}},
			{125 * time.Millisecond, ratelimit.Result{Remaining: 0, Reset: 125 * time.Millisecond, RetryAfter: 125 * time.Millisecond}},
			{125 * time.Millisecond, ratelimit.Result{Remaining: 0, Reset: 125 * time.Millisecond, RetryAfter: 125 * time.Millisecond}},
			{187500 * time.Microsecond, ratelimit.Result{Remaining: 0, Reset: 62500 * time.Microsecond, RetryAfter: 62500 * time.Microsecond}},
			// Had a refusal moved the bucket's clock, this would wait.
			{250 * time.Millisecond, ratelimit.Result{Allowed: true, Remaining: 0, Reset: 250 * time.Millisecond}},
		}},
		{"burst 1 rate 1", ratelimit.Policy{Name: "p", Rate: 1, Burst: 1}, []step{
			{0, ratelimit.Result{Allowed: true, Remaining: 0, Reset: time.Second}},
			{999 * time.Millisecond, ratelimit.Result{Remaining: 0, Reset: time.Millisecond, RetryAfter: time.Millisecond}},
			{time.Second, ratelimit.Result{Allowed: true, Remaining: 0, Reset: time.Second}},
		}},
		// Policies that Validate rejects are refused, never unlimited.
		{"NaN rate refused", ratelimit.Policy{Name: "nan", Rate: rate.Limit(math.NaN()), Burst: 2}, []step{
			{0, ratelimit.Result{}}, {time.Hour, ratelimit.Result{}},
		}},
		{"zero rate refused", ratelimit.Policy{Name: "zero", Rate: 0, Burst: 2}, []step{{0, ratelimit.Result{}}}},
		{"negative rate refused", ratelimit.Policy{Name: "neg", Rate: -1, Burst: 2}, []step{{0, ratelimit.Result{}}}},
		{"zero burst refused", ratelimit.Policy{Name: "empty", Rate: 1, Burst: 0}, []step{{0, ratelimit.Result{}}}},
		{"burst past MaxBurst refused", ratelimit.Policy{Name: "huge", Rate: 1, Burst: 1 << 40}, []step{{0, ratelimit.Result{}}}},
		{"window past MaxWindow refused", ratelimit.Policy{Name: "tiny", Rate: 1e-12, Burst: 1}, []step{{0, ratelimit.Result{}}}},
		{"rate.Inf always allows", ratelimit.Policy{Name: "inf", Rate: rate.Inf, Burst: 2}, []step{
			{0, ratelimit.Result{Allowed: true, Remaining: 2}},
			{0, ratelimit.Result{Allowed: true, Remaining: 2}},
			{0, ratelimit.Result{Allowed: true, Remaining: 2}},
			{-time.Hour, ratelimit.Result{Allowed: true, Remaining: 2}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newMemStore(t, ratelimit.MemoryConfig{})
			for i, st := range tt.steps {
				got := s.AllowAt(base0Plus(st.at), "k", tt.policy)
				assert.Equal(t, st.want, got, "step %d: AllowAt(base0+%v, k, %v) = %+v, want %+v", i, st.at, tt.policy, got, st.want)
			}
		})
	}
}

func TestMemoryAllowAtFractionalRate(t *testing.T) {
	p := ratelimit.Policy{Name: "every1.5s", Rate: rate.Every(1500 * time.Millisecond), Burst: 2}
	s := newMemStore(t, ratelimit.MemoryConfig{})
	tests := []struct {
		at          time.Duration
		wantAllowed bool
		wantRemain  int
		wantRetry   time.Duration // for refusals, to within a microsecond
	}{
		{0, true, 1, 0},
		{0, true, 0, 0},
		{0, false, 0, 1500 * time.Millisecond},
		{1499 * time.Millisecond, false, 0, time.Millisecond},
		{1500 * time.Millisecond, true, 0, 0},
		{2999 * time.Millisecond, false, 0, time.Millisecond},
		{3000 * time.Millisecond, true, 0, 0},
		{6000 * time.Millisecond, true, 1, 0}, // full again (2 tokens), one used
		{6000 * time.Millisecond, true, 0, 0},
		{6000 * time.Millisecond, false, 0, 1500 * time.Millisecond},
	}
	for i, tt := range tests {
		got := s.AllowAt(base0Plus(tt.at), "k", p)
		assert.Equal(t, tt.wantAllowed, got.Allowed, "step %d: AllowAt(base0+%v).Allowed = %v, want %v", i, tt.at, got.Allowed, tt.wantAllowed)
		assert.Equal(t, tt.wantRemain, got.Remaining, "step %d: AllowAt(base0+%v).Remaining = %d, want %d", i, tt.at, got.Remaining, tt.wantRemain)
		assert.InDelta(t, float64(tt.wantRetry), float64(got.RetryAfter), float64(time.Microsecond),
			"step %d: AllowAt(base0+%v).RetryAfter = %v, want %v", i, tt.at, got.RetryAfter, tt.wantRetry)
		if !got.Allowed {
			assert.GreaterOrEqual(t, got.Reset, got.RetryAfter, "step %d: AllowAt(base0+%v).Reset = %v, want >= RetryAfter %v", i, tt.at, got.Reset, got.RetryAfter)
		}
	}
}

// TestMemoryTimeGoesBackwards checks that a time before the bucket's last
// decision counts as that time, as in x/time/rate.
func TestMemoryTimeGoesBackwards(t *testing.T) {
	p := ratelimit.Policy{Name: "p", Rate: 4, Burst: 3}
	offsets := []time.Duration{
		0, 0, 0, // empty the bucket
		500 * time.Millisecond, // 2 tokens back, one used
		250 * time.Millisecond, // backwards: counts as no time passing
		250 * time.Millisecond,
		500 * time.Millisecond, // 250ms after the last decision
		-time.Second,           // far backwards
		-time.Second,
		-750 * time.Millisecond,
		0,
		time.Second,
	}
	s := newMemStore(t, ratelimit.MemoryConfig{})
	lim := rate.NewLimiter(p.Rate, p.Burst)
	for i, d := range offsets {
		now := base0Plus(d)
		want := lim.AllowN(now, 1)
		got := s.AllowAt(now, "k", p)
		require.Equal(t, want, got.Allowed, "step %d: AllowAt(base0%+v).Allowed = %v, want %v (x/time/rate)", i, d, got.Allowed, want)
		if got.Allowed {
			wantRemaining := wholeTokens(lim.TokensAt(now))
			assert.Equal(t, wantRemaining, got.Remaining, "step %d: AllowAt(base0%+v).Remaining = %d, want %d", i, d, got.Remaining, wantRemaining)
		}
	}
}

// wholeTokens is the Remaining that goes with x/time/rate's token count,
// which may be a hair below zero after an allowed event.
func wholeTokens(tokens float64) int {
	return max(0, int(math.Floor(tokens)))
}

// TestMemoryMatchesXTimeRate drives MemoryStore.AllowAt and x/time/rate
// with the same random traces and requires the same decisions.
func TestMemoryMatchesXTimeRate(t *testing.T) {
	traces, steps := 5000, 300
	if testing.Short() {
		traces = 500
	}
	seed := *diffSeed
	s := newMemStore(t, ratelimit.MemoryConfig{})
	base := time.Now()
	allowed, refused := 0, 0
	for tr := 0; tr < traces; tr++ {
		rng := rand.New(rand.NewPCG(seed, uint64(tr)))
		// Rates from 0.01 to 1000 per second, log-uniform.
		r := rate.Limit(math.Pow(10, -2+5*rng.Float64()))
		if rng.IntN(10) == 0 {
			r = rate.Limit(math.Round(float64(r)) + 1) // whole rates too
		}
		burst := 1 + rng.IntN(50)
		p := ratelimit.Policy{Name: "diff", Rate: r, Burst: burst}
		key := "trace-" + strconv.Itoa(tr)
		lim := rate.NewLimiter(r, burst)
		// Load from half to twice the rate.
		mean := float64(time.Second) / float64(r) * (0.5 + 1.5*rng.Float64())
		now := base.Add(time.Duration(rng.Int64N(int64(time.Hour))))
		for i := 0; i < steps; i++ {
			switch x := rng.IntN(100); {
			case x < 5: // simultaneous arrivals: keep now
			case x < 7: // a small step backwards
				now = now.Add(-time.Duration(rng.Float64() * mean / 4))
			default:
				now = now.Add(time.Duration(rng.ExpFloat64() * mean))
			}
			want := lim.AllowN(now, 1)
			got := s.AllowAt(now, key, p)
			if got.Allowed != want {
				t.Fatalf("seed %d trace %d step %d (rate %v, burst %d, now base%+v): AllowAt().Allowed = %v, want %v (x/time/rate); rerun with -ratelimit.seed=%d",
					seed, tr, i, r, burst, now.Sub(base), got.Allowed, want, seed)
			}
			if !want {
				refused++
				if got.RetryAfter <= 0 || got.Reset < got.RetryAfter {
					t.Fatalf("seed %d trace %d step %d: refused AllowAt() = %+v, want 0 < RetryAfter <= Reset", seed, tr, i, got)
				}
				continue
			}
			allowed++
			if wantRemaining := wholeTokens(lim.TokensAt(now)); got.Remaining != wantRemaining {
				t.Fatalf("seed %d trace %d step %d (rate %v, burst %d): AllowAt().Remaining = %d, want %d (x/time/rate tokens %v); rerun with -ratelimit.seed=%d",
					seed, tr, i, r, burst, got.Remaining, wantRemaining, lim.TokensAt(now), seed)
			}
		}
	}
	// Both outcomes must be well represented, or the traces test little.
	assert.Greater(t, refused, allowed/20, "refused decisions = %d, want more than 5%% of the %d allowed", refused, allowed)
	assert.Greater(t, allowed, refused/20, "allowed decisions = %d, want more than 5%% of the %d refused", allowed, refused)
	t.Logf("seed %d: %d allowed, %d refused", seed, allowed, refused)
}

func TestMemoryAllowRealClock(t *testing.T) {
	p := ratelimit.Policy{Name: "p", Rate: rate.Every(time.Hour), Burst: 2}
	for _, res := range []time.Duration{-1, 0, 50 * time.Millisecond} {
		t.Run("resolution="+res.String(), func(t *testing.T) {
			s := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{Resolution: res})
			defer s.Close()
			want := []bool{true, true, false}
			for i, w := range want {
				got := s.Allow("k", p)
				assert.Equal(t, w, got.Allowed, "call %d: Allow(k) = %+v, want Allowed %v", i, got, w)
			}
			var res [1]ratelimit.Result
			ok, err := s.Take(context.Background(), []ratelimit.Check{{Policy: p, Key: "k"}}, res[:])
			require.NoError(t, err, "Take() error = %v, want nil", err)
			assert.False(t, ok, "Take() = %v, want false after the burst", ok)
			assert.Greater(t, res[0].RetryAfter, 59*time.Minute, "Take().RetryAfter = %v, want about 1h", res[0].RetryAfter)
		})
	}
}

func TestMemoryTakeAtMultiCheck(t *testing.T) {
	wide := ratelimit.Policy{Name: "wide", Rate: 4, Burst: 3}
	narrow := ratelimit.Policy{Name: "narrow", Rate: 4, Burst: 1}
	for _, shards := range []int{1, 256} {
		// With one shard both checks share a lock; with 256, the two
		// buckets of a key land in different shards for all but about one
		// key in 256, and the test runs over 20 keys.
		t.Run("shards="+strconv.Itoa(shards), func(t *testing.T) {
			s := newMemStore(t, ratelimit.MemoryConfig{Shards: shards})
			for k := 0; k < 20; k++ {
				key := "key-" + strconv.Itoa(k)
				checks := []ratelimit.Check{{Policy: wide, Key: key}, {Policy: narrow, Key: key}}
				res := make([]ratelimit.Result, 2)

				ok, err := s.TakeAt(base0, checks, res)
				require.NoError(t, err, "TakeAt() error = %v, want nil", err)
				require.True(t, ok, "first TakeAt() = false, want true")
				assert.Equal(t, ratelimit.Result{Allowed: true, Remaining: 2, Reset: 250 * time.Millisecond}, res[0], "first TakeAt() res[0] = %+v", res[0])
				assert.Equal(t, ratelimit.Result{Allowed: true, Remaining: 0, Reset: 250 * time.Millisecond}, res[1], "first TakeAt() res[1] = %+v", res[1])

				// narrow refuses: wide must not be debited, and reports
				// the undebited state.
				for i := 0; i < 3; i++ {
					ok, err = s.TakeAt(base0Plus(100*time.Millisecond), checks, res)
					require.NoError(t, err, "TakeAt() error = %v, want nil", err)
					require.False(t, ok, "TakeAt() #%d = true, want false (narrow is empty)", i)
					assert.True(t, res[0].Allowed, "TakeAt() res[0].Allowed = false, want true (wide alone would allow)")
					assert.Equal(t, 2, res[0].Remaining, "TakeAt() res[0].Remaining = %d, want 2 (undebited)", res[0].Remaining)
					assert.InDelta(t, float64(150*time.Millisecond), float64(res[0].Reset), 1, "TakeAt() res[0].Reset = %v, want 150ms", res[0].Reset)
					assert.False(t, res[1].Allowed, "TakeAt() res[1].Allowed = true, want false")
					assert.Equal(t, 150*time.Millisecond, res[1].RetryAfter, "TakeAt() res[1].RetryAfter = %v, want 150ms", res[1].RetryAfter)
				}
				// wide alone: 2.4 tokens at 100ms had nothing been taken
				// by the refusals; 1.4 left after this decision.
				got := s.AllowAt(base0Plus(100*time.Millisecond), key, wide)
				assert.True(t, got.Allowed, "AllowAt(wide) = %+v, want allowed", got)
				assert.Equal(t, 1, got.Remaining, "AllowAt(wide).Remaining = %d, want 1: the refused TakeAt calls debited wide", got.Remaining)

				// Both allow again once narrow has refilled.
				ok, err = s.TakeAt(base0Plus(250*time.Millisecond), checks, res)
				require.NoError(t, err, "TakeAt() error = %v, want nil", err)
				assert.True(t, ok, "TakeAt(base0+250ms) = false, want true; res = %+v", res)
			}
		})
	}
}

func TestMemoryTakeAtInfAndOrder(t *testing.T) {
	s := newMemStore(t, ratelimit.MemoryConfig{Shards: 1})
	inf := ratelimit.Policy{Name: "inf", Rate: rate.Inf, Burst: 5}
	one := ratelimit.Policy{Name: "one", Rate: 1, Burst: 1}
	checks := []ratelimit.Check{{Policy: inf, Key: "k"}, {Policy: one, Key: "k"}, {Policy: one, Key: "other"}}
	res := make([]ratelimit.Result, 4) // longer than checks is fine
	ok, err := s.TakeAt(base0, checks, res)
	require.NoError(t, err, "TakeAt() error = %v, want nil", err)
	require.True(t, ok, "TakeAt() = false, want true")
	assert.Equal(t, ratelimit.Result{Allowed: true, Remaining: 5}, res[0], "TakeAt() res[0] = %+v", res[0])
	assert.Equal(t, ratelimit.Result{}, res[3], "TakeAt() res[3] = %+v, want untouched", res[3])

	ok, err = s.TakeAt(base0, checks, res)
	require.NoError(t, err, "TakeAt() error = %v, want nil", err)
	require.False(t, ok, "TakeAt() = true, want false")
	want := []bool{true, false, false}
	for i, w := range want {
		assert.Equal(t, w, res[i].Allowed, "TakeAt() res[%d].Allowed = %v, want %v", i, res[i].Allowed, w)
	}
}

func TestMemoryTakeArgs(t *testing.T) {
	p := ratelimit.Policy{Name: "p", Rate: 1, Burst: 1}
	checksN := func(n int) []ratelimit.Check {
		cs := make([]ratelimit.Check, n)
		for i := range cs {
			cs[i] = ratelimit.Check{Policy: p, Key: "k" + strconv.Itoa(i)}
		}
		return cs
	}
	tests := []struct {
		name     string
		checks   []ratelimit.Check
		res      int
		wantErr  error // nil: no error
		wantAny  bool  // some error other than a sentinel
		wantPass bool
	}{
		{"MaxChecks", checksN(ratelimit.MaxChecks), ratelimit.MaxChecks, nil, false, true},
		{"MaxChecks+1", checksN(ratelimit.MaxChecks + 1), ratelimit.MaxChecks + 1, ratelimit.ErrTooManyPolicies, false, false},
		{"res shorter than checks", checksN(2), 1, nil, true, false},
		{"no checks", nil, 0, nil, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newMemStore(t, ratelimit.MemoryConfig{})
			res := make([]ratelimit.Result, tt.res)
			for _, call := range []struct {
				name string
				take func() (bool, error)
			}{
				// Different keys for the two calls, so both find fresh buckets.
				{"TakeAt", func() (bool, error) { return s.TakeAt(base0, tt.checks, res) }},
				{"Take", func() (bool, error) { return s.Take(context.Background(), renamed(tt.checks), res) }},
			} {
				ok, err := call.take()
				switch {
				case tt.wantErr != nil:
					assert.True(t, errors.Is(err, tt.wantErr), "%s(%d checks) error = %v, want %v", call.name, len(tt.checks), err, tt.wantErr)
					assert.False(t, ok, "%s(%d checks) = true, want false with an error", call.name, len(tt.checks))
				case tt.wantAny:
					assert.Error(t, err, "%s(%d checks, %d results) error = nil, want an error", call.name, len(tt.checks), tt.res)
					assert.False(t, ok, "%s(%d checks) = true, want false with an error", call.name, len(tt.checks))
				default:
					assert.NoError(t, err, "%s(%d checks) error = %v, want nil", call.name, len(tt.checks), err)
				}
				if tt.wantPass {
					assert.True(t, ok, "%s(%d checks) = false, want true (fresh buckets)", call.name, len(tt.checks))
				}
			}
			if tt.wantErr != nil || tt.wantAny {
				assert.Zero(t, s.Len(), "Len() after failed Take = %d, want 0", s.Len())
			}
		})
	}
}

// renamed returns checks with their keys changed.
func renamed(checks []ratelimit.Check) []ratelimit.Check {
	out := make([]ratelimit.Check, len(checks))
	for i, c := range checks {
		c.Key += "-renamed"
		out[i] = c
	}
	return out
}

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
