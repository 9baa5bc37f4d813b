package redisstore

import (
	"time"

	"github.com/redis/go-redis/v9"
)

// MaxDialTimeout is the longest DialTimeout that Options and
// ClusterOptions leave in place.
const MaxDialTimeout = 250 * time.Millisecond

// Options sets in o, and returns it, the client settings a rate-limit
// store needs, whatever else o holds:
//
//   - ContextTimeoutEnabled, so that Config.Timeout bounds every call;
//   - DialerRetries 1: go-redis otherwise dials 5 times 100ms apart, so a
//     refused connection would wait out the whole time budget of every
//     decision rather than fail at once;
//   - MaxRetries -1 (none): a decision retried after its reply was lost
//     would take a token twice, and go-redis's 3 retries with backoff
//     would again spend the budget;
//   - DialTimeout at most MaxDialTimeout, for the connections go-redis
//     dials in the background, outside any decision's budget.
//
// Use it as redis.NewClient(redisstore.Options(opts)). A nil o is a new
// *redis.Options. A server whose handshake takes longer (TLS across
// regions) needs a longer DialTimeout, set after Options; decisions
// still give up at Config.Timeout.
func Options(o *redis.Options) *redis.Options {
	if o == nil {
		o = &redis.Options{}
	}
	o.ContextTimeoutEnabled = true
	o.DialerRetries = 1
	o.MaxRetries = -1
	o.DialTimeout = shortDial(o.DialTimeout)
	return o
}

// ClusterOptions is Options for a Redis Cluster client. MaxRedirects,
// which follows a key to the node that holds it, is left as it is.
func ClusterOptions(o *redis.ClusterOptions) *redis.ClusterOptions {
	if o == nil {
		o = &redis.ClusterOptions{}
	}
	o.ContextTimeoutEnabled = true
	o.DialerRetries = 1
	o.MaxRetries = -1
	o.DialTimeout = shortDial(o.DialTimeout)
	return o
}

// shortDial is d, or MaxDialTimeout when d is unset or longer.
func shortDial(d time.Duration) time.Duration {
	if d <= 0 || d > MaxDialTimeout {
		return MaxDialTimeout
	}
	return d
}
