package redisstore_test

import (
	"context"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/faultline-go/faultline/ratelimit"
)

// slowest returns the lowest rate that Validate accepts for burst: the
// bucket refills in MaxWindow.
func slowest(t testing.TB, name string, burst int) ratelimit.Policy {
	r := float64(burst) * 1e9 / float64(ratelimit.MaxWindow)
	p := ratelimit.Policy{Name: name, Rate: rate.Limit(r), Burst: burst}
	for p.Validate() != nil {
		p.Rate = rate.Limit(math.Nextafter(float64(p.Rate), math.Inf(1)))
	}
	require.NoError(t, p.Validate())
	return p
}

// extremes are the policies at the maximums Validate allows.
func extremes(t testing.TB) []ratelimit.Policy {
	return []ratelimit.Policy{
		{Name: "max-burst-max-rate", Rate: ratelimit.MaxRate, Burst: ratelimit.MaxBurst},
		{Name: "one-max-rate", Rate: ratelimit.MaxRate, Burst: 1},
		slowest(t, "max-burst-max-window", ratelimit.MaxBurst),
		slowest(t, "one-max-window", 1),
		{Name: "max-burst-unlimited", Rate: rate.Inf, Burst: ratelimit.MaxBurst},
	}
}

// op is one decision or refund of a trace, at the Redis time it took
// effect.
type op struct {
	refund bool
	at     time.Time
}

// replay runs a trace on a new MemoryStore, then op at at, and returns
// its result.
func replay(t *testing.T, p ratelimit.Policy, trace []op, last op) ratelimit.Result {
	m := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{SweepInterval: -1, Resolution: -1})
	defer m.Close()
	checks := []ratelimit.Check{{Policy: p, Key: "k"}}
	var res [1]ratelimit.Result
	for _, o := range append(trace, last) {
		var err error
		if o.refund {
			err = m.RefundAt(o.at, checks, res[:])
		} else {
			_, err = m.TakeAt(o.at, checks, res[:])
		}
		require.NoError(t, err)
	}
	return res[0]
}

// TestRedisStoreExtremes drives buckets of the policies at the maximums
// on Redis (standalone and Cluster) and on a MemoryStore at the times
// Redis decided: Redis's doubles agree with memory's exact arithmetic,
// and nothing overflows.
func TestRedisStoreExtremes(t *testing.T) {
	t.Run("standalone", func(t *testing.T) { testExtremes(t, newClient(t, redisAddr(t))) })
	t.Run("cluster", func(t *testing.T) { testExtremes(t, newClusterClient(t)) })
}

func testExtremes(t *testing.T, client redis.UniversalClient) {
	st, prefix := newStore(t, client)
	for _, p := range extremes(t) {
		t.Run(p.Name, func(t *testing.T) {
			var trace []op
			// Take, Take, Refund, Take, Take: the burst-1 policies refuse
			// some; the refund gives back one token.
			for step, refunding := range []bool{false, false, true, false, false} {
				checks := []ratelimit.Check{{Policy: p, Key: "k"}}
				var res [1]ratelimit.Result
				before := redisTime(t, client)
				var err error
				ok := true
				if refunding {
					err = st.Refund(context.Background(), checks, res[:])
				} else {
					ok, err = st.Take(context.Background(), checks, res[:])
				}
				require.NoError(t, err, "step %d", step)
				after := redisTime(t, client)
				got := res[0]
				assertSane(t, p, got, step)
				if p.Rate == rate.Inf {
					assert.Equal(t, ratelimit.Result{Allowed: true, Remaining: p.Burst}, got, "step %d", step)
					continue
				}
				written := ok && (refunding || got.Allowed)
				if v, err := client.Get(context.Background(), bucketKey(prefix, "k", p)).Result(); written && err == nil {
					// Memory at the time Redis stored.
					at := op{refund: refunding, at: storedAt(t, v)}
					want := replay(t, p, trace, at)
					assertClose(t, want, want, got, step)
					trace = append(trace, at)
					continue
				}
				// Refused, or a bucket full again within its millisecond
				// to live: memory at both ends of the round trip.
				early := replay(t, p, trace, op{refund: refunding, at: before})
				late := replay(t, p, trace, op{refund: refunding, at: after})
				assertClose(t, early, late, got, step)
				if written {
					trace = append(trace, op{refund: refunding, at: before})
				}
			}
		})
	}
}

// storedAt is the Redis time of a bucket's last write, from its value
// "tokens last_us".
func storedAt(t *testing.T, v string) time.Time {
	t.Helper()
	f := strings.Fields(v)
	require.Len(t, f, 2, "bucket %q, want \"tokens last_us\"", v)
	us, err := strconv.ParseInt(f[1], 10, 64)
	require.NoError(t, err, "bucket %q", v)
	return time.UnixMicro(us)
}

// assertSane checks that r is within what p allows: no overflow, no
// negative remaining.
func assertSane(t *testing.T, p ratelimit.Policy, r ratelimit.Result, step int) {
	t.Helper()
	assert.GreaterOrEqual(t, r.Remaining, 0, "step %d: Remaining", step)
	assert.LessOrEqual(t, r.Remaining, p.Burst, "step %d: Remaining", step)
	for name, d := range map[string]time.Duration{"Reset": r.Reset, "RetryAfter": r.RetryAfter} {
		assert.GreaterOrEqual(t, d, time.Duration(0), "step %d: %s", step, name)
		assert.LessOrEqual(t, d, ratelimit.MaxWindow, "step %d: %s", step, name)
	}
	assert.Equal(t, r.Allowed, r.RetryAfter == 0, "step %d: RetryAfter %v of Allowed %v", step, r.RetryAfter, r.Allowed)
}

// assertClose checks that got lies between memory's results at the two
// ends of the round trip, give or take a double's rounding.
func assertClose(t *testing.T, early, late, got ratelimit.Result, step int) {
	t.Helper()
	if early.Allowed == late.Allowed {
		assert.Equal(t, early.Allowed, got.Allowed, "step %d: Allowed", step)
	}
	assert.GreaterOrEqual(t, got.Remaining, min(early.Remaining, late.Remaining), "step %d: Remaining", step)
	assert.LessOrEqual(t, got.Remaining, max(early.Remaining, late.Remaining), "step %d: Remaining", step)
	between(t, got.Reset, early.Reset, late.Reset, "step %d: Reset", step)
	between(t, got.RetryAfter, early.RetryAfter, late.RetryAfter, "step %d: RetryAfter", step)
}

// between asserts that d lies between a and b, widened by a microsecond
// (Redis's clock) and a double's relative rounding.
func between(t *testing.T, d, a, b time.Duration, msgAndArgs ...any) {
	t.Helper()
	lo, hi := min(a, b), max(a, b)
	tol := time.Microsecond + time.Duration(float64(hi)*1e-15)
	assert.GreaterOrEqual(t, d, lo-tol, msgAndArgs...)
	assert.LessOrEqual(t, d, hi+tol, msgAndArgs...)
}
