// Package storetest is the behaviour every ratelimit.Store must show, as
// one suite that a store's tests run:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) ratelimit.Store {
//			return mystore.New(...)
//		})
//	}
//
// The suite decides on the store's own clock: it uses policies slow
// enough that a loaded machine refills nothing that matters (a token per
// thousand seconds), and fast ones only where it waits for a token, which
// it polls for rather than sleeps. Every decision holds checks of one key,
// as a store sharded by key (Redis Cluster) requires.
package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/faultline-go/faultline/ratelimit"
)

// Option adapts Run to a store.
type Option func(*config)

type config struct {
	closeEnds bool
}

// CloseEndsDecisions says that the store refuses decisions after Close
// with ratelimit.ErrClosed; without it, the suite checks that decisions
// keep working after Close (as MemoryStore's do).
func CloseEndsDecisions() Option {
	return func(c *config) { c.closeEnds = true }
}

// Run runs the suite as subtests of t. open returns a new, empty store
// for each subtest; the subtest closes it when it ends.
func Run(t *testing.T, open func(t *testing.T) ratelimit.Store, opts ...Option) {
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	cases := []struct {
		name string
		run  func(*testing.T, *suite)
	}{
		{"BurstThenRefusal", testBurst},
		{"Refill", testRefill},
		{"AllOrNothing", testAllOrNothing},
		{"DuplicateBuckets", testDuplicates},
		{"Unlimited", testUnlimited},
		{"Refund", testRefund},
		{"HugePolicies", testHuge},
		{"InvalidPolicies", testInvalid},
		{"TooManyChecks", testTooMany},
		{"ShortResults", testShortResults},
		{"Close", testClose},
		{"ConcurrencyBound", testConcurrency},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := open(t)
			require.NotNil(t, st, "open() = nil")
			t.Cleanup(func() { _ = st.Close() })
			c.run(t, &suite{st: st, cfg: cfg})
		})
	}
}

// suite is a store under test.
type suite struct {
	st  ratelimit.Store
	cfg config
}

// Policies of the suite. slowRate refills a token per thousand seconds:
// no loaded machine sees it refill.
const slowRate rate.Limit = 0.001

func slow(name string, burst int) ratelimit.Policy {
	return ratelimit.Policy{Name: name, Rate: slowRate, Burst: burst}
}

// perToken is the time a slow bucket takes to refill one token.
const perToken = time.Duration(float64(time.Second) / float64(slowRate))

// checks builds one decision for key against policies.
func checks(key string, policies ...ratelimit.Policy) []ratelimit.Check {
	cs := make([]ratelimit.Check, len(policies))
	for i, p := range policies {
		cs[i] = ratelimit.Check{Policy: p, Key: key}
	}
	return cs
}

// take decides one request for key against policies.
func (s *suite) take(t *testing.T, key string, policies ...ratelimit.Policy) (bool, []ratelimit.Result) {
	t.Helper()
	res := make([]ratelimit.Result, len(policies))
	ok, err := s.st.Take(context.Background(), checks(key, policies...), res)
	require.NoError(t, err, "Take(%s, %s)", key, names(policies))
	return ok, res
}

// refund gives back the tokens of one decision for key.
func (s *suite) refund(t *testing.T, key string, policies ...ratelimit.Policy) []ratelimit.Result {
	t.Helper()
	res := make([]ratelimit.Result, len(policies))
	err := s.st.Refund(context.Background(), checks(key, policies...), res)
	require.NoError(t, err, "Refund(%s, %s)", key, names(policies))
	return res
}

func names(policies []ratelimit.Policy) string {
	s := ""
	for i, p := range policies {
		if i > 0 {
			s += ", "
		}
		s += p.Name
	}
	return s
}

func remainings(res []ratelimit.Result) []int {
	r := make([]int, len(res))
	for i := range res {
		r[i] = res[i].Remaining
	}
	return r
}

func alloweds(res []ratelimit.Result) []bool {
	a := make([]bool, len(res))
	for i := range res {
		a[i] = res[i].Allowed
	}
	return a
}

// near reports whether d is within tol of want, for messages.
func near(d, want, tol time.Duration) bool {
	return d >= want-tol && d <= want+tol
}
