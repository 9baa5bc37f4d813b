package storetest

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/faultline-go/faultline/ratelimit"
)

// tol is the refill a slow bucket may see during a test, and more.
const tol = time.Second

// testBurst: a full bucket admits its burst, counting down, then refuses.
func testBurst(t *testing.T, s *suite) {
	p := slow("burst", 5)
	for i := 0; i < p.Burst; i++ {
		ok, res := s.take(t, "k", p)
		r := res[0]
		require.True(t, ok, "Take(k, burst) %d = false, want true", i)
		assert.Equal(t, ratelimit.Result{Allowed: true, Remaining: p.Burst - 1 - i, Reset: r.Reset}, r, "Take(k, burst) %d", i)
		want := time.Duration(i+1) * perToken
		assert.True(t, near(r.Reset, want, tol), "Take(k, burst) %d: Reset = %v, want %v", i, r.Reset, want)
	}
	ok, res := s.take(t, "k", p)
	r := res[0]
	assert.False(t, ok, "Take(k, burst) after the burst = true, want false")
	assert.False(t, r.Allowed, "Allowed of a refusal")
	assert.Zero(t, r.Remaining, "Remaining of a refusal")
	assert.True(t, r.RetryAfter > 0 && r.RetryAfter <= perToken, "RetryAfter = %v, want in (0, %v]", r.RetryAfter, perToken)
	want := time.Duration(p.Burst) * perToken
	assert.True(t, near(r.Reset, want, tol), "Reset of a refusal = %v, want %v", r.Reset, want)

	// Another key has a bucket of its own.
	ok, res = s.take(t, "other", p)
	assert.True(t, ok, "Take(other, burst) = false, want true")
	assert.Equal(t, p.Burst-1, res[0].Remaining, "Take(other, burst) Remaining")
}

// testRefill: a refused bucket reports a RetryAfter within one token's
// time, and admits again once it has passed. The policy refills a token
// every 20ms; the suite polls for it, for up to 10s.
func testRefill(t *testing.T, s *suite) {
	p := ratelimit.Policy{Name: "refill", Rate: 50, Burst: 2}
	const every = 20 * time.Millisecond
	var res []ratelimit.Result
	refused := false
	for i := 0; i < 100 && !refused; i++ { // the refill races a slow machine
		var ok bool
		ok, res = s.take(t, "k", p)
		refused = !ok
	}
	require.True(t, refused, "Take(k, refill) never refused in 100 decisions")
	r := res[0]
	assert.True(t, r.RetryAfter > 0 && r.RetryAfter <= every, "RetryAfter = %v, want in (0, %v]", r.RetryAfter, every)
	assert.True(t, r.Reset > 0 && r.Reset <= time.Duration(p.Burst)*every, "Reset = %v, want in (0, %v]", r.Reset, time.Duration(p.Burst)*every)
	// Eventually polls from a goroutine of its own, which may not end the
	// test: an error is kept for after it.
	var failed atomic.Pointer[error]
	require.Eventually(t, func() bool {
		ok, err := s.st.Take(context.Background(), checks("k", p), make([]ratelimit.Result, 1))
		if err != nil {
			failed.Store(&err)
		}
		return ok || err != nil
	}, 10*time.Second, 2*time.Millisecond, "Take(k, refill) after RetryAfter %v never admitted", r.RetryAfter)
	if err := failed.Load(); err != nil {
		t.Fatalf("Take(k, refill) = %v", *err)
	}
}

// testAllOrNothing: a decision over several policies debits every bucket
// or none, and reports a refused decision's buckets as they stay.
func testAllOrNothing(t *testing.T, s *suite) {
	a, b, c := slow("a", 3), slow("b", 1), slow("c", 2)
	ok, res := s.take(t, "k", a, b, c)
	require.True(t, ok, "Take(k, a, b, c) = false, want true")
	assert.Equal(t, []int{2, 0, 1}, remainings(res), "Take(k, a, b, c) Remaining")

	for range 2 {
		ok, res = s.take(t, "k", a, b, c)
		assert.False(t, ok, "Take(k, a, b, c) with b empty = true, want false")
		assert.Equal(t, []bool{true, false, true}, alloweds(res), "Allowed of each check")
		assert.Equal(t, []int{2, 0, 1}, remainings(res), "Remaining of a refused decision: the buckets as they stay")
		assert.Zero(t, res[0].RetryAfter, "RetryAfter of an allowing check")
		assert.Zero(t, res[2].RetryAfter, "RetryAfter of an allowing check")
		assert.Positive(t, res[1].RetryAfter, "RetryAfter of the refusing check")
		assert.True(t, near(res[0].Reset, perToken, tol), "Reset of a = %v, want %v (one token spent)", res[0].Reset, perToken)
	}
	// The refusals took nothing from a and c.
	ok, res = s.take(t, "k", a, c)
	assert.True(t, ok, "Take(k, a, c) = false, want true")
	assert.Equal(t, []int{1, 0}, remainings(res), "Take(k, a, c) Remaining after two refusals")
	// Nor did they from b, which stays empty.
	ok, _ = s.take(t, "k", b)
	assert.False(t, ok, "Take(k, b) = true, want false")
}

// testDuplicates: a bucket named twice in one decision is one bucket,
// decided once and debited once.
func testDuplicates(t *testing.T, s *suite) {
	a, b := slow("a", 3), slow("b", 1)
	ok, res := s.take(t, "k", a, a)
	require.True(t, ok, "Take(k, a, a) = false, want true")
	assert.Equal(t, []int{2, 2}, remainings(res), "Take(k, a, a) Remaining: one token")
	ok, res = s.take(t, "k", a, b, a, b)
	require.True(t, ok, "Take(k, a, b, a, b) = false, want true")
	assert.Equal(t, []int{1, 0, 1, 0}, remainings(res), "Take(k, a, b, a, b) Remaining")
	ok, res = s.take(t, "k", a, b, a)
	assert.False(t, ok, "Take(k, a, b, a) with b empty = true, want false")
	assert.Equal(t, []bool{true, false, true}, alloweds(res), "Take(k, a, b, a) Allowed")
	ok, res = s.take(t, "k", a)
	assert.True(t, ok, "Take(k, a) = false, want true")
	assert.Equal(t, 0, res[0].Remaining, "Take(k, a) Remaining after 2 decisions")

	// Equal names with other rates or bursts are other buckets.
	ok, res = s.take(t, "k", slow("a", 4))
	assert.True(t, ok, "Take(k, a burst 4) = false, want true")
	assert.Equal(t, 3, res[0].Remaining, "Take(k, a burst 4) Remaining: a bucket of its own")
}

// testUnlimited: a rate.Inf policy always allows and reports a full
// bucket, alone or beside a limited one, and refuses nothing of its own.
func testUnlimited(t *testing.T, s *suite) {
	inf := ratelimit.Policy{Name: "inf", Rate: rate.Inf, Burst: 7}
	one := slow("one", 1)
	for i := 0; i < 3; i++ {
		ok, res := s.take(t, "k", inf, inf)
		assert.True(t, ok, "Take(k, inf, inf) %d = false, want true", i)
		assert.Equal(t, []ratelimit.Result{{Allowed: true, Remaining: 7}, {Allowed: true, Remaining: 7}}, res, "Take(k, inf, inf) %d", i)
	}
	ok, res := s.take(t, "k", inf, one)
	assert.True(t, ok, "Take(k, inf, one) = false, want true")
	assert.Equal(t, []int{7, 0}, remainings(res), "Take(k, inf, one) Remaining")
	ok, res = s.take(t, "k", inf, one)
	assert.False(t, ok, "Take(k, inf, one) = true, want false")
	assert.Equal(t, []bool{true, false}, alloweds(res), "Take(k, inf, one) Allowed")
}

// testClose: Close succeeds twice; after it, decisions fail with
// ratelimit.ErrClosed, or keep working, as the store documents.
func testClose(t *testing.T, s *suite) {
	p := slow("close", 3)
	s.take(t, "k", p)
	require.NoError(t, s.st.Close(), "Close()")
	require.NoError(t, s.st.Close(), "Close() twice")
	cs := checks("k", p)
	res := make([]ratelimit.Result, 1)
	ok, err := s.st.Take(context.Background(), cs, res)
	rerr := s.st.Refund(context.Background(), cs, res)
	if s.cfg.closeEnds {
		assert.ErrorIs(t, err, ratelimit.ErrClosed, "Take() after Close = %v, want ErrClosed", err)
		assert.False(t, ok, "Take() after Close allowed")
		assert.ErrorIs(t, rerr, ratelimit.ErrClosed, "Refund() after Close = %v, want ErrClosed", rerr)
		return
	}
	require.NoError(t, err, "Take() after Close")
	assert.True(t, ok, "Take() after Close = false, want true")
	assert.NoError(t, rerr, "Refund() after Close")
}
