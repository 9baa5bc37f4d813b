package storetest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/faultline-go/faultline/ratelimit"
)

// testRefund: a refund gives back the token a Take took, as if the Take
// had never happened, never past the burst, once per bucket.
func testRefund(t *testing.T, s *suite) {
	a, b := slow("a", 3), slow("b", 2)
	t.Run("exact", func(t *testing.T) {
		s.take(t, "exact", a)
		_, before := s.take(t, "exact", a)
		got := s.refund(t, "exact", a)
		assert.Equal(t, []int{2}, remainings(got), "Refund(exact, a) Remaining = %d, want the Take's %d + 1", got[0].Remaining, before[0].Remaining)
		assert.True(t, got[0].Allowed, "Refund() Allowed")
		assert.Zero(t, got[0].RetryAfter, "Refund() RetryAfter")
		assert.True(t, near(got[0].Reset, perToken, tol), "Refund(exact, a) Reset = %v, want %v (one token spent)", got[0].Reset, perToken)
		// The bucket is as after the first Take alone.
		_, res := s.take(t, "exact", a)
		assert.Equal(t, 1, res[0].Remaining, "Take(exact, a) after Take, Take, Refund: Remaining")
	})
	t.Run("refused decision refunded", func(t *testing.T) {
		// The Limiter's use: a later policy refused, so the earlier
		// policy's token comes back.
		one := slow("one", 1)
		s.take(t, "later", one)
		ok, _ := s.take(t, "later", a)
		require.True(t, ok)
		ok, _ = s.take(t, "later", one)
		require.False(t, ok, "Take(later, one) = true, want false")
		s.refund(t, "later", a)
		_, res := s.take(t, "later", a)
		assert.Equal(t, 2, res[0].Remaining, "Take(later, a) after a refunded Take: Remaining")
	})
	t.Run("capped at burst", func(t *testing.T) {
		s.take(t, "capped", a)
		s.refund(t, "capped", a)
		got := s.refund(t, "capped", a)
		assert.Equal(t, []int{3}, remainings(got), "Refund(capped, a) of a full bucket: Remaining")
		assert.Zero(t, got[0].Reset, "Refund(capped, a) of a full bucket: Reset")
		_, res := s.take(t, "capped", a)
		assert.Equal(t, 2, res[0].Remaining, "Take(capped, a) after refunds past the burst: Remaining")
	})
	t.Run("missing bucket", func(t *testing.T) {
		got := s.refund(t, "missing", a, b)
		assert.Equal(t, []ratelimit.Result{{Allowed: true, Remaining: 3}, {Allowed: true, Remaining: 2}}, got,
			"Refund(missing, a, b) of buckets never taken from")
		_, res := s.take(t, "missing", a)
		assert.Equal(t, 2, res[0].Remaining, "Take(missing, a) after the refund: Remaining")
	})
	t.Run("duplicate", func(t *testing.T) {
		s.take(t, "dup", a)
		s.take(t, "dup", a)
		got := s.refund(t, "dup", a, a)
		assert.Equal(t, []int{2, 2}, remainings(got), "Refund(dup, a, a): one token back")
		_, res := s.take(t, "dup", a)
		assert.Equal(t, 1, res[0].Remaining, "Take(dup, a) after Refund(dup, a, a): Remaining")
	})
	t.Run("several and unlimited", func(t *testing.T) {
		inf := ratelimit.Policy{Name: "inf", Rate: rate.Inf, Burst: 7}
		s.take(t, "several", a, b)
		got := s.refund(t, "several", a, inf, b)
		assert.Equal(t, []int{3, 7, 2}, remainings(got), "Refund(several, a, inf, b) Remaining")
		assert.Equal(t, []bool{true, true, true}, alloweds(got), "Refund() Allowed")
	})
}
