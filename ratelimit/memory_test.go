package ratelimit_test

import (
	"context"
	"errors"
	"flag"
	"math"
	"math/rand/v2"
	"strconv"
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
