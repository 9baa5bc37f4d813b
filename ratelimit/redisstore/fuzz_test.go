package redisstore_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/ratelimit"
)

// FuzzStoredBucket writes any value where a bucket lives, as another
// program with access to the server might, and decides on it: the
// scripts read what is not a bucket as a full one, and every result stays
// one the policy allows, with at most the burst admitted at once. It
// needs the redis-server of FAULTLINE_REDIS_ADDR.
func FuzzStoredBucket(f *testing.F) {
	for _, seed := range []string{
		"2 1764600000000000", "0 99999999999999999", "", " ", "5", "3 4 5",
		"nan 0", "-nan 0", "inf 0", "-inf 0", "1e400 0", "0 nan", "0 -inf", "0x10 0",
		"-5 0", "1e300 1e300", "abc def",
	} {
		f.Add(seed)
	}
	client := newClient(f, redisAddr(f))
	st, prefix := newStore(f, client)
	p := ratelimit.Policy{Name: "fuzz", Rate: 1, Burst: 3}
	key := bucketKey(prefix, "k", p)
	checks := []ratelimit.Check{{Policy: p, Key: "k"}}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, v string) {
		require.NoError(t, client.Set(ctx, key, v, 0).Err())
		var res [1]ratelimit.Result
		admitted := 0
		for i := 0; i < 5; i++ {
			ok, err := st.Take(ctx, checks, res[:])
			require.NoError(t, err, "Take() on stored %q", v)
			saneResult(t, p, res[0], "Take() %d on stored %q", i, v)
			if ok {
				admitted++
			}
		}
		// 5 decisions in well under the second a token takes; a slow
		// machine may see one token come back.
		require.LessOrEqual(t, admitted, p.Burst+1, "Take() admitted %d of 5 on stored %q, want at most the burst", admitted, v)
		require.NoError(t, st.Refund(ctx, checks, res[:]), "Refund() on stored %q", v)
		saneResult(t, p, res[0], "Refund() on stored %q", v)
	})
}

// saneResult fails t unless r is a result p allows.
func saneResult(t *testing.T, p ratelimit.Policy, r ratelimit.Result, format string, args ...any) {
	t.Helper()
	require.GreaterOrEqual(t, r.Remaining, 0, append([]any{format + ": Remaining"}, args...)...)
	require.LessOrEqual(t, r.Remaining, p.Burst, append([]any{format + ": Remaining"}, args...)...)
	require.GreaterOrEqual(t, r.Reset, p.Window()*0, append([]any{format + ": Reset"}, args...)...)
	require.LessOrEqual(t, r.Reset, p.Window()+p.Window(), append([]any{format + ": Reset"}, args...)...)
	require.LessOrEqual(t, r.RetryAfter, p.Window(), append([]any{format + ": RetryAfter"}, args...)...)
	require.Equal(t, r.Allowed, r.RetryAfter == 0, append([]any{format + ": RetryAfter is zero exactly when allowed"}, args...)...)
}
