package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/faultline-go/faultline/ratelimit"
	"github.com/faultline-go/faultline/ratelimit/redisstore"
)

func TestNew(t *testing.T) {
	good := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true})
	defer good.Close()
	plain := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer plain.Close()
	cluster := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}})
	defer cluster.Close()

	tests := []struct {
		name    string
		client  redis.UniversalClient
		cfg     redisstore.Config
		wantErr error // nil: no error
	}{
		{name: "defaults", client: good},
		{name: "prefix and timeout", client: good, cfg: redisstore.Config{Prefix: "svc:rl", Timeout: time.Second}},
		{name: "nil client", client: nil, wantErr: redisstore.ErrNilClient},
		{name: "open brace in prefix", client: good, cfg: redisstore.Config{Prefix: "a{b"}, wantErr: redisstore.ErrInvalidConfig},
		{name: "close brace in prefix", client: good, cfg: redisstore.Config{Prefix: "a}b"}, wantErr: redisstore.ErrInvalidConfig},
		{name: "client ignores deadlines", client: plain, wantErr: redisstore.ErrNoContextTimeout},
		{name: "cluster client ignores deadlines", client: cluster, wantErr: redisstore.ErrNoContextTimeout},
		{name: "no timeout asked", client: plain, cfg: redisstore.Config{Timeout: -1}},
		{name: "Options", client: redis.NewClient(redisstore.Options(&redis.Options{Addr: "127.0.0.1:1"}))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := redisstore.New(tt.client, tt.cfg)
			switch tt.wantErr {
			case nil:
				require.NoError(t, err)
				require.NotNil(t, st)
				assert.NoError(t, st.Close())
				assert.NoError(t, st.Close(), "Close() twice")
			default:
				assert.ErrorIs(t, err, tt.wantErr, "New(%T, %+v) = %v, want %v", tt.client, tt.cfg, err, tt.wantErr)
				assert.Nil(t, st, "New() of an error")
			}
		})
	}
}

// TestStoreMisuse covers the failures Take reports before reaching
// Redis; no server is needed.
func TestStoreMisuse(t *testing.T) {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true, MaxRetries: -1})
	defer client.Close()
	st, err := redisstore.New(client, redisstore.Config{})
	require.NoError(t, err)
	p := ratelimit.Policy{Name: "p", Rate: 1, Burst: 1}
	res := make([]ratelimit.Result, ratelimit.MaxChecks+1)

	t.Run("too many checks", func(t *testing.T) {
		checks := make([]ratelimit.Check, ratelimit.MaxChecks+1)
		for i := range checks {
			checks[i] = ratelimit.Check{Policy: p, Key: "k"}
		}
		_, err := st.Take(context.Background(), checks, res)
		assert.ErrorIs(t, err, ratelimit.ErrTooManyPolicies)
	})
	t.Run("different keys", func(t *testing.T) {
		checks := []ratelimit.Check{{Policy: p, Key: "a"}, {Policy: p, Key: "b"}}
		_, err := st.Take(context.Background(), checks, res)
		assert.ErrorIs(t, err, redisstore.ErrCrossSlot, "Take(a, b) = %v, want ErrCrossSlot", err)
		err = st.Refund(context.Background(), checks, res)
		assert.ErrorIs(t, err, redisstore.ErrCrossSlot, "Refund(a, b) = %v, want ErrCrossSlot", err)
	})
	t.Run("different keys of an unlimited check", func(t *testing.T) {
		// An unlimited check never reaches Redis, so its key does not
		// matter; the finite one still needs the server, which is absent.
		inf := ratelimit.Policy{Name: "inf", Rate: rate.Inf, Burst: 3}
		checks := []ratelimit.Check{{Policy: inf, Key: "a"}, {Policy: inf, Key: "b"}}
		ok, err := st.Take(context.Background(), checks, res)
		require.NoError(t, err)
		assert.True(t, ok)
		assert.Equal(t, ratelimit.Result{Allowed: true, Remaining: 3}, res[1])
	})
	t.Run("invalid policy", func(t *testing.T) {
		for _, bad := range []ratelimit.Policy{{Name: "zero", Rate: 0, Burst: 1}, {Name: "noburst", Rate: 1}} {
			_, err := st.Take(context.Background(), []ratelimit.Check{{Policy: bad, Key: "k"}}, res)
			assert.ErrorIs(t, err, ratelimit.ErrInvalidPolicy, "Take(%+v)", bad)
		}
	})
	t.Run("fewer results than checks", func(t *testing.T) {
		_, err := st.Take(context.Background(), []ratelimit.Check{{Policy: p, Key: "k"}}, nil)
		assert.ErrorIs(t, err, ratelimit.ErrShortResults)
	})
	for _, tc := range []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		want error
	}{
		{"canceled context", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx, cancel
		}, context.Canceled},
		{"expired context", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), -time.Second)
		}, context.DeadlineExceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := tc.ctx()
			defer cancel()
			start := time.Now()
			_, err := st.Take(ctx, []ratelimit.Check{{Policy: p, Key: "k"}}, res)
			assert.ErrorIs(t, err, tc.want)
			assert.Less(t, time.Since(start), 50*time.Millisecond)
		})
	}
	t.Run("closed", func(t *testing.T) {
		require.NoError(t, st.Close())
		require.NoError(t, st.Close(), "Close() twice")
		_, err := st.Take(context.Background(), []ratelimit.Check{{Policy: p, Key: "k"}}, res)
		assert.ErrorIs(t, err, ratelimit.ErrClosed)
	})
}
