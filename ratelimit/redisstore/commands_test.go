package redisstore_test

import (
	"context"
	"slices"
	"strconv"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/ratelimit"
)

func TestRedisStoreOneRoundTrip(t *testing.T) {
	addr := redisAddr(t)
	hook := &cmdCounter{}
	testOneRoundTrip(t, newClient(t, addr, hook), newClient(t, addr), hook)
}

// testOneRoundTrip counts the commands client sends for N decisions of 1,
// 2 and 3 checks, and the EVALSHAs the server ran, through admin.
func testOneRoundTrip(t *testing.T, client, admin redis.UniversalClient, hook *cmdCounter) {
	st, _ := newStore(t, client)
	policies := []ratelimit.Policy{
		{Name: "a", Rate: 1e6, Burst: 1e6},
		{Name: "b", Rate: 10, Burst: 3}, // refuses some: a refusal is one round trip too
		{Name: "c", Rate: 5, Burst: 1e3},
	}
	const n = 50
	for checks := 1; checks <= 3; checks++ {
		t.Run(strconv.Itoa(checks)+" checks", func(t *testing.T) {
			ps := policies[:checks]
			keys := make([]string, n)
			for i := range keys {
				keys[i] = "rt"
				if i%2 == 1 {
					keys[i] = "rt-" + strconv.Itoa(i) // other keys, other slots
				}
			}
			// Warm up: connections, cluster slots, the script on every node.
			for _, key := range keys {
				take(t, st, key, ps...)
			}
			hook.reset()
			before := serverCalls(t, admin)
			allowed := 0
			for _, key := range keys {
				if ok, _ := take(t, st, key, ps...); ok {
					allowed++
				}
			}
			after := serverCalls(t, admin)
			sent := hook.reset()
			assert.Len(t, sent, n, "commands sent for %d decisions", n)
			assert.Equal(t, slices.Repeat([]string{"evalsha"}, n), sent)
			assert.Equal(t, int64(n), after["evalsha"]-before["evalsha"], "EVALSHAs the server ran for %d decisions", n)
			assert.Zero(t, after["eval"]-before["eval"], "EVALs the server ran")
			assert.Zero(t, after["script|load"]-before["script|load"], "SCRIPT LOADs the server ran")
			t.Logf("%d checks: %d decisions (%d allowed): client sent %d commands, server ran %d EVALSHA (%d GET, %d SET, %d TIME inside)",
				checks, n, allowed, len(sent), after["evalsha"]-before["evalsha"],
				after["get"]-before["get"], after["set"]-before["set"], after["time"]-before["time"])
		})
	}
}

func TestRedisStoreScriptFlush(t *testing.T) {
	addr := redisAddr(t)
	hook := &cmdCounter{}
	client := newClient(t, addr, hook)
	admin := newClient(t, addr)
	st, _ := newStore(t, client)
	ctx := context.Background()
	p := ratelimit.Policy{Name: "flush", Rate: 0.1, Burst: 10}

	_, res := take(t, st, "k", p)
	require.Equal(t, 9, res[0].Remaining)
	for round := 0; round < 3; round++ {
		require.NoError(t, admin.ScriptFlush(ctx).Err())
		hook.reset()
		for i := 0; i < 2; i++ {
			ok, res := take(t, st, "k", p)
			require.True(t, ok)
			assert.Equal(t, 8-2*round-i, res[0].Remaining, "round %d, request %d", round, i)
		}
		assert.Equal(t, []string{"evalsha", "eval", "evalsha"}, hook.reset(),
			"commands of two decisions after SCRIPT FLUSH")
	}
}
