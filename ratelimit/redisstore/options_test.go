package redisstore_test

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"

	"github.com/faultline-go/faultline/ratelimit/redisstore"
)

func TestOptions(t *testing.T) {
	tests := []struct {
		name     string
		in       *redis.Options
		wantDial time.Duration
	}{
		{"nil", nil, redisstore.MaxDialTimeout},
		{"defaults", &redis.Options{Addr: "db:6379"}, redisstore.MaxDialTimeout},
		{"long dial and retries", &redis.Options{DialTimeout: 5 * time.Second, MaxRetries: 3, DialerRetries: 5}, redisstore.MaxDialTimeout},
		{"short dial kept", &redis.Options{DialTimeout: 100 * time.Millisecond}, 100 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := redisstore.Options(tt.in)
			if tt.in != nil {
				assert.Same(t, tt.in, o, "Options(o) returns o")
				assert.Equal(t, tt.in.Addr, o.Addr, "Options(o).Addr")
			}
			assert.True(t, o.ContextTimeoutEnabled, "Options().ContextTimeoutEnabled")
			assert.Equal(t, 1, o.DialerRetries, "Options().DialerRetries")
			assert.Equal(t, -1, o.MaxRetries, "Options().MaxRetries")
			assert.Equal(t, tt.wantDial, o.DialTimeout, "Options().DialTimeout")

			c := redisstore.ClusterOptions(&redis.ClusterOptions{DialTimeout: tt.wantDial * 2, MaxRetries: 3, MaxRedirects: 4})
			assert.True(t, c.ContextTimeoutEnabled, "ClusterOptions().ContextTimeoutEnabled")
			assert.Equal(t, 1, c.DialerRetries, "ClusterOptions().DialerRetries")
			assert.Equal(t, -1, c.MaxRetries, "ClusterOptions().MaxRetries")
			assert.Equal(t, 4, c.MaxRedirects, "ClusterOptions().MaxRedirects")
			assert.LessOrEqual(t, c.DialTimeout, redisstore.MaxDialTimeout, "ClusterOptions().DialTimeout")
		})
	}
	assert.NotNil(t, redisstore.ClusterOptions(nil))
}
