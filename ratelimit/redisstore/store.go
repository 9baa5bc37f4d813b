// Package redisstore is a ratelimit.Store on Redis (standalone,
// Sentinel-managed or Cluster), shared by every replica of a service, with
// exactly the token-bucket arithmetic of ratelimit.MemoryStore. It is the
// only package of this module that needs go-redis.
//
// A service builds the client with Options (or ClusterOptions), which
// makes a refused connection fail at once rather than after go-redis's
// retries, hands it to New, and gives the store to ratelimit.Config:
//
//	client := redis.NewClient(redisstore.Options(&redis.Options{Addr: addr}))
//	store, err := redisstore.New(client, redisstore.Config{Prefix: "orders:rl"})
//	...
//	limiter, err := ratelimit.New(ratelimit.Config{Store: store})
//
// go-redis logs through a global logger; a service may route it to its
// own structured log with redis.SetLogger(redisstore.Logger(logger)).
package redisstore

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/faultline-go/faultline/ratelimit"
)

// DefaultPrefix starts every key of a store whose Config.Prefix is empty.
const DefaultPrefix = "faultline:rl"

// DefaultTimeout is the time budget of a call when Config.Timeout is 0.
const DefaultTimeout = 50 * time.Millisecond

// Config configures a Store. The zero value gives the documented
// defaults.
type Config struct {
	// Prefix starts every key the store writes; "" means DefaultPrefix.
	// It may not hold '{' or '}', which would change the keys' hash slot.
	Prefix string
	// Timeout is the time budget of each Take and Refund, on top of the
	// caller's context: a server that has not replied by then gives a
	// *StoreError matching ErrTimeout, and the Limiter's Outage decides
	// the request. 0 means DefaultTimeout (50ms); negative means no
	// budget but the context's own and the client's read and write
	// timeouts. A budget needs a client created with
	// ContextTimeoutEnabled (see Options).
	Timeout time.Duration
}

// Store is a ratelimit.Store on Redis. Each Take and each Refund is one
// EVALSHA of a Lua script, whatever the number of checks: the script
// reads Redis's clock (TIME, in microseconds, so the replicas' clocks do
// not matter), decides every bucket, and writes the buckets only when
// all of them allow. A flushed script cache costs one EVAL, which loads
// the script again. A bucket is the string "tokens last_us" under
//
//	<prefix>:{<key>}:<policy name>:<rate>:<burst>
//
// written with a time to live that ends a millisecond after the bucket is
// full again, so idle keys disappear by themselves (a missing bucket is a
// full one), and a value that no decision wrote counts as full too. The hash tag is the check's Key, or
// the hex SHA-256 of a Key that is empty, longer than 128 bytes, holds a
// brace or is itself 64 hex digits: every bucket of one decision is in one
// Cluster hash slot.
//
// Failures are a *StoreError naming the server and the cause. A client's
// own retries (redis.Options.MaxRetries) could take a token twice when a
// reply is lost; Options turns them off.
//
// The store reuses the arguments of the command it sends once the call
// has returned: a go-redis hook must not keep Cmder.Args past its call.
// A Store is safe for concurrent use.
type Store struct {
	client  redis.UniversalClient
	addr    string // for errors
	prefix  string
	timeout time.Duration
	closed  atomic.Bool
}

var _ ratelimit.Store = (*Store)(nil)

// New returns a Store deciding on client, which may be a *redis.Client, a
// *redis.ClusterClient or any other UniversalClient. Create the client
// with ContextTimeoutEnabled (Options does), or set a negative Timeout:
// otherwise New returns ErrNoContextTimeout. The caller keeps ownership of
// client: Close does not close it.
func New(client redis.UniversalClient, cfg Config) (*Store, error) {
	if client == nil {
		return nil, ErrNilClient
	}
	s := &Store{client: client, addr: addrOf(client), prefix: cfg.Prefix, timeout: cfg.Timeout}
	if s.prefix == "" {
		s.prefix = DefaultPrefix
	}
	if strings.ContainsAny(s.prefix, "{}") {
		return nil, fmt.Errorf("%w: Prefix %q may not hold '{' or '}'", ErrInvalidConfig, s.prefix)
	}
	if s.timeout == 0 {
		s.timeout = DefaultTimeout
	}
	if s.timeout > 0 && !contextTimeouts(client) {
		return nil, ErrNoContextTimeout
	}
	return s, nil
}

// contextTimeouts reports whether client lets a context deadline reach
// its sockets; a client of an unknown type is trusted to.
func contextTimeouts(client redis.UniversalClient) bool {
	switch c := client.(type) {
	case *redis.Client:
		return c.Options().ContextTimeoutEnabled
	case *redis.ClusterClient:
		return c.Options().ContextTimeoutEnabled
	case *redis.Ring:
		return c.Options().ContextTimeoutEnabled
	}
	return true
}

// addrOf is the address errors name: the server's, or the seeds of a
// Cluster or Ring, comma-separated.
func addrOf(client redis.UniversalClient) string {
	switch c := client.(type) {
	case *redis.Client:
		return c.Options().Addr
	case *redis.ClusterClient:
		return strings.Join(c.Options().Addrs, ",")
	case *redis.Ring:
		addrs := make([]string, 0, len(c.Options().Addrs))
		for _, a := range c.Options().Addrs {
			addrs = append(addrs, a)
		}
		sort.Strings(addrs)
		return strings.Join(addrs, ",")
	}
	return fmt.Sprintf("%T", client)
}

// Take implements ratelimit.Store with one round trip to Redis (none when
// every check's rate is rate.Inf). It returns ErrCrossSlot for limited
// checks of different keys, the sentinels of package ratelimit for too
// many checks, too few results, an invalid policy or a closed store, and
// a *StoreError when Redis does not decide.
func (s *Store) Take(ctx context.Context, checks []ratelimit.Check, res []ratelimit.Result) (bool, error) {
	c, err := s.begin(checks, res)
	if c == nil {
		return err == nil, err
	}
	defer c.release()
	v, err := s.run(ctx, c, &takeScript)
	if err != nil {
		return false, err
	}
	if len(v) != 1+3*c.n {
		return false, s.badReply(c.op, len(v), 1+3*c.n)
	}
	c.takeResults(v[1:], res)
	return v[0] == 1, nil
}

// Refund implements ratelimit.Store with one round trip to Redis, with
// the errors of Take.
func (s *Store) Refund(ctx context.Context, checks []ratelimit.Check, res []ratelimit.Result) error {
	c, err := s.begin(checks, res)
	if c == nil {
		return err
	}
	defer c.release()
	v, err := s.run(ctx, c, &refundScript)
	if err != nil {
		return err
	}
	if len(v) != 2*c.n {
		return s.badReply(c.op, len(v), 2*c.n)
	}
	c.refundResults(v, res)
	return nil
}

// Close marks the store closed: later decisions return
// ratelimit.ErrClosed. It does not close the client, which belongs to the
// caller. It is safe to call twice.
func (s *Store) Close() error {
	s.closed.Store(true)
	return nil
}

// begin validates a decision and plans its command: it returns the call
// to send, or nil with the error that ends the decision (nil when no
// check needs Redis, whose results it has filled).
func (s *Store) begin(checks []ratelimit.Check, res []ratelimit.Result) (*call, error) {
	if err := validate(checks, res); err != nil {
		return nil, err
	}
	if s.closed.Load() {
		return nil, ratelimit.ErrClosed
	}
	c := newCall()
	if err := c.plan(checks, res); err != nil || c.n == 0 {
		c.release()
		return nil, err
	}
	c.encode(s.prefix, checks)
	return c, nil
}

// validate reports why checks and res cannot be one decision, if they
// cannot, with package ratelimit's sentinels.
func validate(checks []ratelimit.Check, res []ratelimit.Result) error {
	if len(checks) > ratelimit.MaxChecks {
		return ratelimit.ErrTooManyPolicies
	}
	if len(res) < len(checks) {
		return ratelimit.ErrShortResults
	}
	for i := range checks {
		if err := checks[i].Policy.Validate(); err != nil {
			return err
		}
	}
	return nil
}
