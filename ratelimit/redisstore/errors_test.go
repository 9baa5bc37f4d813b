package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/ratelimit"
	"github.com/faultline-go/faultline/ratelimit/redisstore"
)

var errPolicy = ratelimit.Policy{Name: "p", Rate: 1, Burst: 1}

// takeErr decides one check on st and returns how long the decision took
// and its error.
func takeErr(ctx context.Context, st *redisstore.Store) (time.Duration, error) {
	var res [1]ratelimit.Result
	start := time.Now()
	_, err := st.Take(ctx, []ratelimit.Check{{Policy: errPolicy, Key: "k"}}, res[:])
	return time.Since(start), err
}

// refusedAddr is an address where nothing listens: a port just released.
func refusedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// silentAddr is an address that accepts connections and never replies.
func silentAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan struct{})
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				close(done)
				return
			}
			conns = append(conns, c) // held open, never answered
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		<-done
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return l.Addr().String()
}

// TestStoreRefusedFailsFast decides on servers that refuse connections,
// with a time budget of 2s: the error names the addresses and the cause,
// matches ErrUnavailable, and comes at once, not after the budget.
func TestStoreRefusedFailsFast(t *testing.T) {
	a, b := refusedAddr(t), refusedAddr(t)
	tests := []struct {
		name   string
		client redis.UniversalClient
		addr   string
	}{
		{"standalone", redis.NewClient(redisstore.Options(&redis.Options{Addr: a})), a},
		{"cluster", redis.NewClusterClient(redisstore.ClusterOptions(&redis.ClusterOptions{Addrs: []string{a, b}})), a + "," + b},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer tt.client.Close()
			st, err := redisstore.New(tt.client, redisstore.Config{Timeout: 2 * time.Second})
			require.NoError(t, err)
			for i := range 3 { // the first, and those after the pool noted the failure
				d, err := takeErr(context.Background(), st)
				require.Error(t, err)
				assert.True(t, strings.HasPrefix(err.Error(), "redisstore: "+tt.addr+": evalsha: "), "Take() = %q, want the addresses and command first", err)
				assert.Contains(t, err.Error(), "connection refused", "Take() = %q, want the cause", err)
				assert.ErrorIs(t, err, redisstore.ErrUnavailable)
				assert.ErrorIs(t, err, ratelimit.ErrStoreUnavailable, "Take() = %v: the limiter's breaker must open at once", err)
				assert.ErrorIs(t, err, syscall.ECONNREFUSED)
				assert.NotErrorIs(t, err, redisstore.ErrTimeout)
				var se *redisstore.StoreError
				require.ErrorAs(t, err, &se)
				assert.True(t, se.Unavailable(), "Unavailable()")
				assert.False(t, se.Timeout(), "Timeout()")
				assert.Less(t, d, time.Second, "Take() %d on a refused connection took %v of its 2s budget", i, d)
			}
		})
	}
}

// TestStoreTimeout decides on a server that never replies: the error says
// so with the budget, rather than "context deadline exceeded".
func TestStoreTimeout(t *testing.T) {
	addr := silentAddr(t)
	client := redis.NewClient(redisstore.Options(&redis.Options{Addr: addr}))
	defer client.Close()
	st, err := redisstore.New(client, redisstore.Config{}) // 50ms
	require.NoError(t, err)

	d, err := takeErr(context.Background(), st)
	require.Error(t, err)
	assert.Equal(t, "redisstore: "+addr+": evalsha: no reply within 50ms", err.Error())
	assert.ErrorIs(t, err, redisstore.ErrTimeout)
	assert.NotErrorIs(t, err, redisstore.ErrUnavailable)
	var se *redisstore.StoreError
	require.ErrorAs(t, err, &se)
	assert.True(t, se.Timeout(), "Timeout()")
	assert.Equal(t, addr, se.Addr)
	assert.Equal(t, "evalsha", se.Op)
	assert.Less(t, d, time.Second, "Take() on a silent server took %v, budget 50ms", d)

	t.Run("caller's deadline first", func(t *testing.T) {
		st, err := redisstore.New(client, redisstore.Config{Timeout: 10 * time.Second})
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		d, err := takeErr(ctx, st)
		assert.ErrorIs(t, err, context.DeadlineExceeded, "Take() past the caller's deadline = %v", err)
		assert.NotErrorIs(t, err, redisstore.ErrTimeout, "the caller's deadline is not the store's budget")
		assert.Less(t, d, 5*time.Second)
	})
}

// replyHook answers every command itself: with err, or with val.
type replyHook struct {
	err error
	val []int64
}

func (h replyHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h replyHook) ProcessHook(redis.ProcessHook) redis.ProcessHook {
	return func(_ context.Context, cmd redis.Cmder) error {
		if h.err != nil {
			cmd.SetErr(h.err)
			return h.err
		}
		cmd.(*redis.IntSliceCmd).SetVal(h.val)
		return nil
	}
}

func (h replyHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// redisError is a reply error of the server, as go-redis types it.
type redisError string

func (e redisError) Error() string { return string(e) }
func (redisError) RedisError()     {}

// timeoutError is a network timeout.
type timeoutError struct{}

func (timeoutError) Error() string   { return "read tcp: i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

// TestStoreErrorClass classifies the failures go-redis reports.
func TestStoreErrorClass(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	tests := []struct {
		name string
		err  error
		want error // ErrUnavailable, ErrTimeout or nil
		msg  string
	}{
		{"refused dial", refused, redisstore.ErrUnavailable, "dial tcp: connection refused"},
		{"reset", &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, redisstore.ErrUnavailable, "read tcp: connection reset by peer"},
		{"connection closed", io.EOF, redisstore.ErrUnavailable, "EOF"},
		{"closed client", redis.ErrClosed, redisstore.ErrUnavailable, "redis: client is closed"},
		{"loading", redisError("LOADING Redis is loading the dataset in memory"), redisstore.ErrUnavailable, "LOADING Redis is loading the dataset in memory"},
		{"cluster down", redisError("CLUSTERDOWN The cluster is down"), redisstore.ErrUnavailable, "CLUSTERDOWN The cluster is down"},
		{"network timeout", timeoutError{}, redisstore.ErrTimeout, "no reply within 50ms"},
		{"script error", redisError("ERR user_script:1: oops"), nil, "ERR user_script:1: oops"},
		{"other", errors.New("redis: something else"), nil, "redis: something else"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := redis.NewClient(redisstore.Options(&redis.Options{Addr: "127.0.0.1:1"}))
			defer client.Close()
			client.AddHook(replyHook{err: tt.err})
			st, err := redisstore.New(client, redisstore.Config{})
			require.NoError(t, err)
			_, err = takeErr(context.Background(), st)
			assert.Equal(t, "redisstore: 127.0.0.1:1: evalsha: "+tt.msg, fmt.Sprint(err))
			assert.ErrorIs(t, err, tt.err, "Take() = %v, want it to wrap the cause", err)
			var se *redisstore.StoreError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, tt.want == redisstore.ErrUnavailable, se.Unavailable(), "Unavailable()")
			assert.Equal(t, tt.want == redisstore.ErrTimeout, se.Timeout(), "Timeout()")
			if tt.want != nil {
				assert.ErrorIs(t, err, tt.want)
			}
		})
	}
}

// TestStoreBadReply answers the scripts with the wrong number of integers.
func TestStoreBadReply(t *testing.T) {
	client := redis.NewClient(redisstore.Options(&redis.Options{Addr: "127.0.0.1:1"}))
	defer client.Close()
	client.AddHook(replyHook{val: []int64{1}})
	st, err := redisstore.New(client, redisstore.Config{})
	require.NoError(t, err)
	_, err = takeErr(context.Background(), st)
	assert.ErrorIs(t, err, redisstore.ErrBadReply)
	assert.EqualError(t, err, "redisstore: 127.0.0.1:1: evalsha: script replied 1 integers, want 4")
	var res [1]ratelimit.Result
	err = st.Refund(context.Background(), []ratelimit.Check{{Policy: errPolicy, Key: "k"}}, res[:])
	assert.ErrorIs(t, err, redisstore.ErrBadReply)
	assert.EqualError(t, err, "redisstore: 127.0.0.1:1: evalsha: script replied 1 integers, want 2")
}

// wrapped is a UniversalClient of a type the store does not know.
type wrapped struct{ *redis.Client }

// TestStoreErrorAddr names the servers of each kind of client in errors.
func TestStoreErrorAddr(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	single := redis.NewClient(redisstore.Options(&redis.Options{Addr: "10.0.0.1:6379"}))
	tests := []struct {
		name   string
		client interface {
			redis.UniversalClient
			AddHook(redis.Hook)
		}
		want string
	}{
		{"client", single, "10.0.0.1:6379"},
		{"cluster", redis.NewClusterClient(redisstore.ClusterOptions(&redis.ClusterOptions{Addrs: []string{"10.0.0.1:7000", "10.0.0.2:7000"}})), "10.0.0.1:7000,10.0.0.2:7000"},
		{"ring", redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"b": "10.0.0.2:6379", "a": "10.0.0.1:6379"}, ContextTimeoutEnabled: true}), "10.0.0.1:6379,10.0.0.2:6379"},
		{"other", wrapped{redis.NewClient(redisstore.Options(&redis.Options{Addr: "10.0.0.3:6379"}))}, "redisstore_test.wrapped"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer tt.client.Close()
			tt.client.AddHook(replyHook{err: refused})
			st, err := redisstore.New(tt.client, redisstore.Config{})
			require.NoError(t, err)
			_, err = takeErr(context.Background(), st)
			var se *redisstore.StoreError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, tt.want, se.Addr, "Take() = %v: Addr", err)
		})
	}
}
