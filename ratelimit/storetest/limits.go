package storetest

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/faultline-go/faultline/ratelimit"
)

// slowest returns the lowest rate Validate accepts for burst: the bucket
// refills in MaxWindow.
func slowest(t *testing.T, name string, burst int) ratelimit.Policy {
	p := ratelimit.Policy{Name: name, Rate: rate.Limit(float64(burst) * 1e9 / float64(ratelimit.MaxWindow)), Burst: burst}
	for p.Validate() != nil {
		p.Rate = rate.Limit(math.Nextafter(float64(p.Rate), math.Inf(1)))
	}
	require.NoError(t, p.Validate(), "the slowest policy of burst %d", burst)
	return p
}

// testHuge: policies at the maximums Validate accepts decide without
// overflow: Remaining within [0, Burst], durations within [0, MaxWindow].
func testHuge(t *testing.T, s *suite) {
	for _, p := range []ratelimit.Policy{
		{Name: "max-burst-max-rate", Rate: ratelimit.MaxRate, Burst: ratelimit.MaxBurst},
		{Name: "one-max-rate", Rate: ratelimit.MaxRate, Burst: 1},
		slowest(t, "max-burst-max-window", ratelimit.MaxBurst),
		slowest(t, "one-max-window", 1),
	} {
		t.Run(p.Name, func(t *testing.T) {
			ok, res := s.take(t, "k", p)
			r := res[0]
			require.True(t, ok, "Take(k, %s) of a full bucket = false, want true", p.Name)
			assert.Equal(t, p.Burst-1, r.Remaining, "Take(k, %s) Remaining", p.Name)
			want := time.Duration(1 / float64(p.Rate) * 1e9) // one token's time
			assert.True(t, near(r.Reset, want, time.Microsecond+want/1e6), "Take(k, %s) Reset = %v, want %v", p.Name, r.Reset, want)
			for i := 0; i < 4; i++ {
				_, res := s.take(t, "k", p)
				sane(t, p, res[0], "Take")
				sane(t, p, s.refund(t, "k", p)[0], "Refund")
			}
			if p.Burst == 1 && p.Rate < 1 {
				// Empty: a token is due in about MaxWindow.
				ok, _ := s.take(t, "k", p)
				require.True(t, ok, "Take(k, %s) after a refund = false, want true", p.Name)
				ok, res := s.take(t, "k", p)
				assert.False(t, ok, "Take(k, %s) of an empty bucket = true, want false", p.Name)
				assert.True(t, near(res[0].RetryAfter, ratelimit.MaxWindow, time.Hour), "Take(k, %s) RetryAfter = %v, want about %v", p.Name, res[0].RetryAfter, ratelimit.MaxWindow)
				sane(t, p, res[0], "Take")
			}
		})
	}
}

// sane checks that r is a result p allows.
func sane(t *testing.T, p ratelimit.Policy, r ratelimit.Result, op string) {
	t.Helper()
	assert.True(t, r.Remaining >= 0 && r.Remaining <= p.Burst, "%s(k, %s) Remaining = %d, want in [0, %d]", op, p.Name, r.Remaining, p.Burst)
	assert.True(t, r.Reset >= 0 && r.Reset <= ratelimit.MaxWindow, "%s(k, %s) Reset = %v, want in [0, %v]", op, p.Name, r.Reset, ratelimit.MaxWindow)
	assert.True(t, r.RetryAfter >= 0 && r.RetryAfter <= ratelimit.MaxWindow, "%s(k, %s) RetryAfter = %v, want in [0, %v]", op, p.Name, r.RetryAfter, ratelimit.MaxWindow)
	assert.Equal(t, r.Allowed, r.RetryAfter == 0, "%s(k, %s) = %+v: RetryAfter is zero exactly when allowed", op, p.Name, r)
}

// testInvalid: a policy Validate rejects fails the decision with
// ErrInvalidPolicy, and touches no bucket of the decision.
func testInvalid(t *testing.T, s *suite) {
	good := slow("good", 2)
	for _, bad := range []ratelimit.Policy{
		{Name: "zero-rate", Rate: 0, Burst: 1},
		{Name: "negative-rate", Rate: -1, Burst: 1},
		{Name: "nan-rate", Rate: rate.Limit(math.NaN()), Burst: 1},
		{Name: "over-max-rate", Rate: ratelimit.MaxRate * 2, Burst: 1},
		{Name: "too-slow", Rate: 1e-12, Burst: 1},
		{Name: "zero-burst", Rate: 1, Burst: 0},
		{Name: "negative-burst", Rate: 1, Burst: -1},
		{Name: "over-max-burst", Rate: 1, Burst: ratelimit.MaxBurst + 1},
		{Name: "", Rate: 1, Burst: 1},
		{Name: "bad name", Rate: 1, Burst: 1},
		{Name: "brace{", Rate: 1, Burst: 1},
	} {
		t.Run(bad.Name, func(t *testing.T) {
			res := make([]ratelimit.Result, 2)
			ok, err := s.st.Take(context.Background(), checks("k", good, bad), res)
			assert.ErrorIs(t, err, ratelimit.ErrInvalidPolicy, "Take(k, good, %+v) = %v, want ErrInvalidPolicy", bad, err)
			assert.False(t, ok, "Take() of an invalid policy allowed")
			err = s.st.Refund(context.Background(), checks("k", good, bad), res)
			assert.ErrorIs(t, err, ratelimit.ErrInvalidPolicy, "Refund(k, good, %+v) = %v, want ErrInvalidPolicy", bad, err)
		})
	}
	_, res := s.take(t, "k", good)
	assert.Equal(t, 1, res[0].Remaining, "Take(k, good) after the failed decisions: Remaining")
}

// testTooMany: a decision of more than MaxChecks checks fails with
// ErrTooManyPolicies; one of MaxChecks decides.
func testTooMany(t *testing.T, s *suite) {
	policies := make([]ratelimit.Policy, ratelimit.MaxChecks+1)
	for i := range policies {
		policies[i] = slow("p"+string(rune('a'+i)), 2)
	}
	res := make([]ratelimit.Result, len(policies))
	_, err := s.st.Take(context.Background(), checks("k", policies...), res)
	assert.ErrorIs(t, err, ratelimit.ErrTooManyPolicies, "Take() of %d checks = %v, want ErrTooManyPolicies", len(policies), err)
	err = s.st.Refund(context.Background(), checks("k", policies...), res)
	assert.ErrorIs(t, err, ratelimit.ErrTooManyPolicies, "Refund() of %d checks = %v, want ErrTooManyPolicies", len(policies), err)
	ok, res := s.take(t, "k", policies[:ratelimit.MaxChecks]...)
	assert.True(t, ok, "Take() of MaxChecks checks = false, want true")
	for i, r := range res {
		assert.Equal(t, 1, r.Remaining, "Take() of MaxChecks checks: check %d Remaining", i)
	}
}

// testShortResults: fewer results than checks fails with ErrShortResults.
func testShortResults(t *testing.T, s *suite) {
	cs := checks("k", slow("a", 2), slow("b", 2))
	_, err := s.st.Take(context.Background(), cs, make([]ratelimit.Result, 1))
	assert.ErrorIs(t, err, ratelimit.ErrShortResults, "Take() with 1 result for 2 checks = %v, want ErrShortResults", err)
	err = s.st.Refund(context.Background(), cs, nil)
	assert.ErrorIs(t, err, ratelimit.ErrShortResults, "Refund() with no results = %v, want ErrShortResults", err)
	_, res := s.take(t, "k", slow("a", 2))
	assert.Equal(t, 1, res[0].Remaining, "Take(k, a) after the failed decisions: Remaining")
}

// testConcurrency: goroutines deciding on one key at once admit no more
// than one bucket allows over the time they took: burst + rate × elapsed.
func testConcurrency(t *testing.T, s *suite) {
	p := ratelimit.Policy{Name: "hammer", Rate: 100, Burst: 20}
	const goroutines, decisions = 8, 150
	var admitted, refused atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range goroutines {
		wg.Go(func() {
			cs := checks("hammer", p)
			res := make([]ratelimit.Result, 1)
			for range decisions {
				ok, err := s.st.Take(context.Background(), cs, res)
				if err != nil {
					t.Errorf("Take(hammer) = %v", err)
					return
				}
				if ok {
					admitted.Add(1)
				} else {
					refused.Add(1)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	bound := float64(p.Burst) + float64(p.Rate)*elapsed.Seconds()
	t.Logf("%d goroutines × %d decisions in %v: %d admitted (bound %.1f), %d refused",
		goroutines, decisions, elapsed, admitted.Load(), bound, refused.Load())
	// One token more for the rounding of the store clock against ours.
	assert.LessOrEqual(t, float64(admitted.Load()), bound+1, "admitted = %d, want at most burst + rate × elapsed = %.1f", admitted.Load(), bound)
	assert.GreaterOrEqual(t, admitted.Load(), int64(p.Burst), "admitted = %d, want at least the burst %d", admitted.Load(), p.Burst)
	assert.Equal(t, int64(goroutines*decisions), admitted.Load()+refused.Load(), "decisions counted")
}
