package ratelimit

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	_ "embed" // the decision script
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"
)

// Errors returned by the Redis store, besides those of the package's
// other var block.
var (
	// ErrCrossSlot is returned by RedisStore.Take when the checks of one
	// decision do not all have the same Key: their buckets could live on
	// different Redis Cluster nodes, which one atomic script cannot reach.
	// The Limiter never builds such a decision.
	ErrCrossSlot = errors.New("ratelimit: redis: the checks of one decision must share one key")
	// ErrNoContextTimeout is returned by NewRedisStore for a go-redis
	// client created without ContextTimeoutEnabled while RedisConfig.Timeout
	// is not negative: such a client does not stop waiting on a stalled
	// server when the context expires, so Timeout could not bound a
	// decision.
	ErrNoContextTimeout = errors.New("ratelimit: redis: the client ignores context deadlines; create it with ContextTimeoutEnabled: true")
)

// RedisConfig configures a RedisStore. The zero value gives the documented
// defaults.
type RedisConfig struct {
	// Prefix starts every key the store writes; "" means "faultline:rl".
	// It may not hold '{' or '}', which would change the keys' hash slot.
	Prefix string
	// Timeout bounds each Take, on top of the caller's context; 0 means
	// 50ms, negative means no bound but the context's own (and the
	// client's read and write timeouts).
	Timeout time.Duration
}

// RedisStore is a Store on Redis (standalone, Sentinel-managed or
// Cluster), shared by every replica of a service, with exactly the
// token-bucket arithmetic of MemoryStore.
//
// Each decision is one EVALSHA of a Lua script, whatever the number of
// checks: the script reads Redis's clock (TIME, in microseconds, so the
// replicas' clocks do not matter), decides every check, and writes the
// buckets only when all of them allow. A flushed script cache costs one
// extra round trip (EVAL, which loads the script again). A bucket is the
// string "tokens last_us" under
//
//	<prefix>:{<key>}:<policy name>:<rate>:<burst>
//
// written with a time to live that ends when the bucket would be full
// again, so idle keys disappear by themselves. The hash tag is the check's
// Key, or the hex SHA-256 of a Key that is empty, longer than 128 bytes,
// holds a brace or is itself 64 hex digits: every bucket of one decision
// is in one Cluster hash slot.
//
// Errors (an unreachable server, Timeout) are returned to the Limiter,
// whose Outage policy decides the request. The client's own retries
// (Options.MaxRetries) happen within Timeout; a decision retried after its
// reply was lost may take a token twice.
//
// The store reuses the arguments of the command it sends once Take has
// returned: a go-redis hook must not keep Cmder.Args past its call.
type RedisStore struct {
	client  redis.UniversalClient
	prefix  string
	timeout time.Duration
	closed  atomic.Bool
}

var _ Store = (*RedisStore)(nil)

//go:embed redis.lua
var redisScript string

// Arguments of the script command, boxed once.
var (
	evalshaArg any = "evalsha"
	evalArg    any = "eval"
)

// maxTagLen is the longest Key used as a hash tag as it is.
const maxTagLen = 128

// NewRedisStore returns a RedisStore deciding on client, which may be a
// *redis.Client, a *redis.ClusterClient or any other UniversalClient.
// Create the client with ContextTimeoutEnabled: true (or set a negative
// Timeout): otherwise NewRedisStore returns ErrNoContextTimeout. The
// caller keeps ownership of client: Close does not close it.
func NewRedisStore(client redis.UniversalClient, cfg RedisConfig) (*RedisStore, error) {
	if client == nil {
		return nil, errors.New("ratelimit: redis: nil client")
	}
	s := &RedisStore{client: client, prefix: cfg.Prefix, timeout: cfg.Timeout}
	if s.prefix == "" {
		s.prefix = "faultline:rl"
	}
	for i := 0; i < len(s.prefix); i++ {
		if c := s.prefix[i]; c == '{' || c == '}' {
			return nil, fmt.Errorf("ratelimit: redis: Prefix %q may not hold '{' or '}'", s.prefix)
		}
	}
	if s.timeout == 0 {
		s.timeout = 50 * time.Millisecond
	}
	if s.timeout > 0 {
		enabled := true
		switch c := client.(type) {
		case *redis.Client:
			enabled = c.Options().ContextTimeoutEnabled
		case *redis.ClusterClient:
			enabled = c.Options().ContextTimeoutEnabled
		case *redis.Ring:
			enabled = c.Options().ContextTimeoutEnabled
		}
		if !enabled {
			return nil, ErrNoContextTimeout
		}
	}
	return s, nil
}

// Close marks the store closed: later Takes return ErrClosed. It does not
// close the client, which belongs to the caller. It is safe to call twice.
func (s *RedisStore) Close() error {
	s.closed.Store(true)
	return nil
}

// redisCall is the scratch space of one Take, pooled.
type redisCall struct {
	// args is the command: evalsha, sha1, numkeys, keys, then rate and
	// burst per key; args[3:] point into strs, which hold substrings of
	// one string built per decision.
	args [3 + 3*MaxChecks]any
	strs [3 * MaxChecks]string
	ends [3 * MaxChecks]int
	idx  [MaxChecks]int // index in checks of the k-th key sent
	buf  []byte
}

var redisCalls = sync.Pool{New: func() any {
	c := &redisCall{buf: make([]byte, 0, 512)}
	for i := range c.strs {
		c.args[3+i] = &c.strs[i]
	}
	return c
}}

// script is one of the store's Lua scripts, with its SHA-1 for EVALSHA.
type script struct {
	sha, src any // boxed once
}

func newScript(src string) script {
	h := sha1.Sum([]byte(src))
	return script{sha: hex.EncodeToString(h[:]), src: src}
}

var (
	takeScript   = newScript(redisScript)
	refundScript = newScript(redisRefundScript)
)

//go:embed redis_refund.lua
var redisRefundScript string

// Take implements Store with one round trip to Redis (none when every
// check's rate is rate.Inf). It returns ErrTooManyPolicies for more than
// MaxChecks checks, ErrCrossSlot for checks of different keys, and a
// wrapped error when Redis does not answer in time.
func (s *RedisStore) Take(ctx context.Context, checks []Check, res []Result) (bool, error) {
	c := redisCalls.Get().(*redisCall)
	defer redisCalls.Put(c)
	n, err := s.prepareCall(c, checks, res)
	if err != nil || n == 0 {
		return n == 0 && err == nil, err
	}
	defer clear(c.strs[:3*n])
	v, err := s.eval(ctx, c, n, takeScript)
	if err != nil {
		return false, err
	}
	if len(v) != 1+3*n {
		return false, fmt.Errorf("ratelimit: redis: script replied %d integers, want %d", len(v), 1+3*n)
	}
	for k := 0; k < n; k++ {
		retry := v[3+3*k]
		res[c.idx[k]] = Result{
			Allowed:    retry == 0,
			Remaining:  int(v[1+3*k]),
			Reset:      nanos(v[2+3*k]),
			RetryAfter: nanos(retry),
		}
	}
	return v[0] == 1, nil
}

// Refund implements Store with one round trip to Redis.
func (s *RedisStore) Refund(ctx context.Context, checks []Check, res []Result) error {
	c := redisCalls.Get().(*redisCall)
	defer redisCalls.Put(c)
	n, err := s.prepareCall(c, checks, res)
	if err != nil || n == 0 {
		return err
	}
	defer clear(c.strs[:3*n])
	v, err := s.eval(ctx, c, n, refundScript)
	if err != nil {
		return err
	}
	if len(v) != 2*n {
		return fmt.Errorf("ratelimit: redis: refund script replied %d integers, want %d", len(v), 2*n)
	}
	for k := 0; k < n; k++ {
		res[c.idx[k]] = Result{Allowed: true, Remaining: int(v[2*k]), Reset: nanos(v[1+2*k])}
	}
	return nil
}

// prepareCall validates checks, fills the results of unlimited ones and
// builds the keys and arguments of the limited ones in c, returning how
// many there are.
func (s *RedisStore) prepareCall(c *redisCall, checks []Check, res []Result) (int, error) {
	if err := checkArgs(checks, res); err != nil {
		return 0, err
	}
	if s.closed.Load() {
		return 0, ErrClosed
	}
	n := 0
	key := ""
	for i := range checks {
		p := &checks[i].Policy
		if p.Rate == rate.Inf {
			res[i] = Result{Allowed: true, Remaining: p.Burst}
			continue
		}
		if n == 0 {
			key = checks[i].Key
		} else if checks[i].Key != key {
			return 0, ErrCrossSlot
		}
		c.idx[n] = i
		n++
	}
	if n == 0 {
		return 0, nil
	}
	// Keys, then rates and bursts, in one string.
	b := c.buf[:0]
	var head []byte
	for k := 0; k < n; k++ {
		if k == 0 {
			b = append(b, s.prefix...)
			b = append(b, ":{"...)
			b = appendTag(b, key)
			b = append(b, "}:"...)
			head = b
		} else {
			b = append(b, head...)
		}
		p := &checks[c.idx[k]].Policy
		b = append(b, p.Name...)
		b = append(b, ':')
		b = strconv.AppendFloat(b, float64(p.Rate), 'g', -1, 64)
		b = append(b, ':')
		b = strconv.AppendInt(b, int64(p.Burst), 10)
		c.ends[k] = len(b)
	}
	for k := 0; k < n; k++ {
		p := &checks[c.idx[k]].Policy
		b = strconv.AppendFloat(b, float64(p.Rate), 'g', -1, 64)
		c.ends[n+2*k] = len(b)
		b = strconv.AppendInt(b, int64(p.Burst), 10)
		c.ends[n+2*k+1] = len(b)
	}
	c.buf = b
	str := string(b)
	start := 0
	for j := 0; j < 3*n; j++ {
		c.strs[j] = str[start:c.ends[j]]
		start = c.ends[j]
	}
	return n, nil
}

// eval runs sc over the n prepared keys of c within the store's Timeout,
// loading the script again when Redis's script cache lacks it.
func (s *RedisStore) eval(ctx context.Context, c *redisCall, n int, sc script) ([]int64, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("ratelimit: redis: %w", err)
	}
	if s.timeout > 0 {
		if d, ok := ctx.Deadline(); !ok || time.Until(d) > s.timeout {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, s.timeout)
			defer cancel()
		}
	}
	c.args[0], c.args[1], c.args[2] = evalshaArg, sc.sha, n
	args := c.args[:3+3*n]
	cmd := redis.NewIntSliceCmd(ctx, args...)
	cmd.SetFirstKeyPos(3)
	err := s.client.Process(ctx, cmd)
	if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
		// The script cache was flushed (or this is a new server): EVAL
		// runs the script and loads it for the EVALSHAs that follow.
		c.args[0], c.args[1] = evalArg, sc.src
		cmd = redis.NewIntSliceCmd(ctx, args...)
		cmd.SetFirstKeyPos(3)
		err = s.client.Process(ctx, cmd)
	}
	if err != nil {
		return nil, fmt.Errorf("ratelimit: redis: %w", err)
	}
	return cmd.Val(), nil
}

// nanos converts a duration of the script, which caps at 2^62 ns, as
// durationFromTokens caps at math.MaxInt64.
func nanos(v int64) time.Duration {
	if v >= 1<<62 {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(v)
}

// appendTag appends the hash tag of key: key itself when Redis Cluster
// would hash all of it and it cannot be mistaken for a hashed tag, else
// the hex SHA-256 of key.
func appendTag(b []byte, key string) []byte {
	if len(key) > 0 && len(key) <= maxTagLen && !isHex64(key) {
		plain := true
		for i := 0; i < len(key); i++ {
			if key[i] == '{' || key[i] == '}' {
				plain = false
				break
			}
		}
		if plain {
			return append(b, key...)
		}
	}
	sum := sha256.Sum256([]byte(key))
	return hex.AppendEncode(b, sum[:])
}

// isHex64 reports whether s has the shape of a hashed tag.
func isHex64(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
