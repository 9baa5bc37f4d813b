package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/faultline-go/faultline/ratelimit"
)

// refund gives back the tokens of one decision against policies for key.
func refund(t testing.TB, st ratelimit.Store, key string, policies ...ratelimit.Policy) []ratelimit.Result {
	t.Helper()
	checks := make([]ratelimit.Check, len(policies))
	for i, p := range policies {
		checks[i] = ratelimit.Check{Policy: p, Key: key}
	}
	res := make([]ratelimit.Result, len(checks))
	require.NoError(t, st.Refund(context.Background(), checks, res))
	return res
}

// TestRedisStoreRefundExact takes a token and refunds it: the bucket then
// holds what it would hold had the Take never happened, the refill of the
// time in between included, to the stored digit.
func TestRedisStoreRefundExact(t *testing.T) {
	client := newClient(t, redisAddr(t))
	st, prefix := newStore(t, client)
	p := ratelimit.Policy{Name: "exact", Rate: 3, Burst: 10}
	key := bucketKey(prefix, "k", p)
	for range 4 {
		take(t, st, "k", p)
	}
	before, at := bucket(t, client, key)

	ok, res := take(t, st, "k", p)
	require.True(t, ok)
	got := refund(t, st, "k", p)
	after, refundedAt := bucket(t, client, key)

	want := min(before+refundedAt.Sub(at).Seconds()*float64(p.Rate), float64(p.Burst))
	assert.InDelta(t, want, after, 1e-9, "tokens after Take then Refund = %v, want %v (as if never taken)", after, want)
	assert.True(t, got[0].Allowed, "Refund() Allowed")
	assert.Equal(t, res[0].Remaining+1, got[0].Remaining, "Refund() Remaining = %d, want the Take's %d + 1", got[0].Remaining, res[0].Remaining)
	want2 := time.Duration((float64(p.Burst) - after) / float64(p.Rate) * 1e9)
	within(t, got[0].Reset, want2, time.Microsecond, "Refund() Reset")
	assert.Zero(t, got[0].RetryAfter)
}

func TestRedisStoreRefund(t *testing.T) {
	client := newClient(t, redisAddr(t))
	slow := ratelimit.Policy{Name: "slow", Rate: 0.001, Burst: 3} // no refill to speak of
	other := ratelimit.Policy{Name: "other", Rate: 0.001, Burst: 5}
	inf := ratelimit.Policy{Name: "inf", Rate: rate.Inf, Burst: 7}
	tests := []struct {
		name     string
		takes    []ratelimit.Policy // taken once each, one decision per policy
		refund   []ratelimit.Policy
		want     []int // Remaining per refunded check
		stored   []int // whole tokens then stored per policy of takes
		noBucket bool  // no key exists afterwards
	}{
		{name: "one token back", takes: []ratelimit.Policy{slow, slow}, refund: []ratelimit.Policy{slow}, want: []int{2}, stored: []int{2, 2}},
		{name: "capped at burst", takes: []ratelimit.Policy{slow}, refund: []ratelimit.Policy{slow, other}, want: []int{3, 5}, stored: []int{3}},
		{name: "a bucket named twice gets one token", takes: []ratelimit.Policy{slow, slow}, refund: []ratelimit.Policy{slow, slow}, want: []int{2, 2}, stored: []int{2, 2}},
		{name: "missing bucket is full and stays missing", refund: []ratelimit.Policy{slow}, want: []int{3}, noBucket: true},
		{name: "unlimited", refund: []ratelimit.Policy{inf, slow, inf}, want: []int{7, 3, 7}, noBucket: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, prefix := newStore(t, client)
			for _, p := range tt.takes {
				take(t, st, "k", p)
			}
			got := refund(t, st, "k", tt.refund...)
			assert.Equal(t, tt.want, remainings(got), "Refund() Remaining")
			for i, r := range got {
				assert.True(t, r.Allowed, "Refund() check %d Allowed", i)
				assert.Zero(t, r.RetryAfter, "Refund() check %d RetryAfter", i)
			}
			for i, p := range tt.takes {
				tokens, _ := bucket(t, client, bucketKey(prefix, "k", p))
				assert.Equal(t, tt.stored[i], int(tokens), "stored tokens of %s", p.Name)
			}
			if tt.noBucket {
				keys, err := client.Keys(context.Background(), prefix+":*").Result()
				require.NoError(t, err)
				assert.Empty(t, keys, "keys after Refund() of missing buckets")
			}
		})
	}
}

// TestRedisStoreRefundCommands counts the commands of refunds: one EVALSHA
// each, one EVAL after a SCRIPT FLUSH, none for unlimited checks.
func TestRedisStoreRefundCommands(t *testing.T) {
	addr := redisAddr(t)
	hook := &cmdCounter{}
	client := newClient(t, addr, hook)
	st, _ := newStore(t, client)
	a := ratelimit.Policy{Name: "a", Rate: 1, Burst: 5}
	b := ratelimit.Policy{Name: "b", Rate: 1, Burst: 5}
	take(t, st, "k", a, b)
	refund(t, st, "k", a, b) // loads the refund script

	hook.reset()
	refund(t, st, "k", a, b, a)
	assert.Equal(t, []string{"evalsha"}, hook.reset(), "commands of one refund")

	require.NoError(t, newClient(t, addr).ScriptFlush(context.Background()).Err())
	take(t, st, "k", a)
	refund(t, st, "k", a)
	refund(t, st, "k", a)
	assert.Equal(t, []string{"evalsha", "eval", "evalsha", "eval", "evalsha"}, hook.reset(),
		"commands of a Take and two refunds after SCRIPT FLUSH")

	refund(t, st, "k", ratelimit.Policy{Name: "inf", Rate: rate.Inf, Burst: 1})
	assert.Empty(t, hook.reset(), "commands of a refund of unlimited checks")
}
