package ratelimit

import (
	"context"
	"errors"
	"hash/maphash"
	"math"
	"math/bits"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/faultline-go/faultline/internal/clock"
)

// Store keeps token buckets and decides requests against them.
type Store interface {
	// Take decides one request against every check, all or nothing: each
	// check's bucket loses one token if and only if every check allows.
	// res must have room for one Result per check; Take fills it in the
	// order of checks. A store that cannot decide returns an error.
	Take(ctx context.Context, checks []Check, res []Result) (allowed bool, err error)
	// Close releases the store's resources. It is safe to call twice.
	Close() error
}

// Check is one bucket a request is decided against: the policy and the key
// (API key id, client IP, ...) the bucket belongs to.
type Check struct {
	Policy Policy
	Key    string

	ph   uint64  // policyHash(&Policy) when prepared, else 0
	nspt float64 // nanoseconds per token when prepared, else 0
}

// MaxChecks is the most checks one decision may hold.
const MaxChecks = 8

// MemoryConfig configures a MemoryStore. The zero value gives the
// documented defaults.
type MemoryConfig struct {
	// Shards is the number of independently locked shards, rounded up to a
	// power of two; 0 means 256.
	Shards int
	// MaxKeys caps the number of buckets kept; 0 means 1<<20. When a shard
	// is full, a new key evicts the bucket closest to full among a few
	// sampled ones, so memory stays bounded under a flood of distinct keys
	// (an evicted bucket that was not full starts over full).
	MaxKeys int
	// SweepInterval is how often a shard drops the buckets that have
	// refilled completely (which changes no decision). Sweeping happens
	// while keys are added, so an idle store does no work at all; 0 means
	// 30s, negative disables it (MaxKeys still bounds the store).
	SweepInterval time.Duration
	// Resolution is the granularity of the clock that Allow and Take read:
	// while decisions are being made, a background goroutine advances it
	// every Resolution (and stops after a second without decisions), so a
	// decision costs an atomic load rather than a system clock read, and
	// buckets refill up to one Resolution late, never early. 0 means 1ms;
	// negative reads the system clock on every decision. AllowAt and
	// TakeAt use the time they are given.
	Resolution time.Duration
}

// MemoryStore is an in-memory Store with exactly golang.org/x/time/rate's
// token-bucket semantics. Each bucket is a 32-byte slot of an open-addressing
// table keyed by a seeded 64-bit hash of policy and key, in one of many
// independently locked shards: a decision on an existing key allocates
// nothing and parallel decisions on different keys rarely share a lock. No
// goroutine runs per key, and none at all while the store is idle.
type MemoryStore struct {
	seed        maphash.Seed
	epoch       time.Time
	clock       *clock.Coarse // nil: read the system clock
	shards      []shard
	shardBits   uint
	maxPerShard int
	sweepEvery  int64 // nanoseconds; 0 disables sweeping
}

var _ Store = (*MemoryStore)(nil)

type shard struct {
	mu        sync.Mutex // guards t and nextSweep
	t         table
	nextSweep int64
	_         [64 - 8 - 24 - 16 - 8]byte
}

// NewMemoryStore returns a MemoryStore.
func NewMemoryStore(cfg MemoryConfig) *MemoryStore {
	n := cfg.Shards
	if n <= 0 {
		n = 256
	}
	bitsN := uint(bits.Len(uint(n - 1)))
	n = 1 << bitsN
	maxKeys := cfg.MaxKeys
	if maxKeys <= 0 {
		maxKeys = 1 << 20
	}
	s := &MemoryStore{
		seed:        maphash.MakeSeed(),
		epoch:       time.Now(),
		shards:      make([]shard, n),
		shardBits:   bitsN,
		maxPerShard: (maxKeys + n - 1) / n,
	}
	for i := range s.shards {
		s.shards[i].t.shift = bitsN
	}
	switch {
	case cfg.Resolution == 0:
		s.clock = clock.NewCoarse(s.epoch, time.Millisecond)
	case cfg.Resolution > 0:
		s.clock = clock.NewCoarse(s.epoch, cfg.Resolution)
	}
	switch {
	case cfg.SweepInterval == 0:
		s.sweepEvery = int64(30 * time.Second)
	case cfg.SweepInterval > 0:
		s.sweepEvery = int64(cfg.SweepInterval)
	}
	return s
}

// Allow decides one request against p for key, now.
func (s *MemoryStore) Allow(key string, p Policy) Result {
	var r Result
	c := Check{Policy: p, Key: key}
	s.take1(s.nanos(), true, &c, &r)
	return r
}

// KeyLimiter is a policy bound to a MemoryStore: a token bucket per key,
// with the policy's part of the bucket hash computed once rather than on
// every decision. It is safe for concurrent use.
type KeyLimiter struct {
	s *MemoryStore
	c Check // Key unset
}

// Limiter binds p to the store. Its decisions share the buckets of Allow
// and Take with the same policy and key.
func (s *MemoryStore) Limiter(p Policy) *KeyLimiter {
	return &KeyLimiter{s: s, c: prepare(Check{Policy: p})}
}

// Allow decides one request for key, now.
func (k *KeyLimiter) Allow(key string) Result {
	var r Result
	c := k.c
	c.Key = key
	k.s.take1(k.s.nanos(), true, &c, &r)
	return r
}

// AllowAt decides one request for key at the given time.
func (k *KeyLimiter) AllowAt(now time.Time, key string) Result {
	var r Result
	c := k.c
	c.Key = key
	k.s.take1(int64(now.Sub(k.s.epoch)), false, &c, &r)
	return r
}

// prepare computes the policy part of c's bucket hash ahead of decisions.
func prepare(c Check) Check {
	c.ph = policyHash(&c.Policy)
	if c.Policy.Rate > 0 && c.Policy.Rate != rate.Inf {
		c.nspt = float64(time.Second) / float64(c.Policy.Rate)
	}
	return c
}

// capDuration converts nanoseconds to a Duration, saturating at the
// maximum.
func capDuration(ns float64) time.Duration {
	if ns >= math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(ns)
}

// nanos reads the store's clock: nanoseconds since the epoch.
func (s *MemoryStore) nanos() int64 {
	if s.clock != nil {
		return s.clock.Nanos()
	}
	return int64(time.Since(s.epoch))
}

// AllowAt decides one request against p for key at the given time, so tests
// can drive the clock. Times before the bucket's last decision count as
// that decision's time, as in x/time/rate.
func (s *MemoryStore) AllowAt(now time.Time, key string, p Policy) Result {
	var res [1]Result
	checks := [1]Check{{Policy: p, Key: key}}
	s.takeAt(int64(now.Sub(s.epoch)), false, checks[:], res[:])
	return res[0]
}

// Take implements Store; it fails only for more than MaxChecks checks.
func (s *MemoryStore) Take(_ context.Context, checks []Check, res []Result) (bool, error) {
	if err := checkArgs(checks, res); err != nil {
		return false, err
	}
	return s.takeAt(s.nanos(), true, checks, res), nil
}

// TakeAt is Take at the given time.
func (s *MemoryStore) TakeAt(now time.Time, checks []Check, res []Result) (bool, error) {
	if err := checkArgs(checks, res); err != nil {
		return false, err
	}
	return s.takeAt(int64(now.Sub(s.epoch)), false, checks, res), nil
}

func checkArgs(checks []Check, res []Result) error {
	if len(checks) > MaxChecks {
		return ErrTooManyPolicies
	}
	if len(res) < len(checks) {
		return errors.New("ratelimit: fewer results than checks")
	}
	return nil
}

// Len returns the number of buckets kept.
func (s *MemoryStore) Len() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += sh.t.n
		sh.mu.Unlock()
	}
	return n
}

// Sweep drops every bucket that is full now, in every shard. Sweeping also
// happens on its own as keys are added (see MemoryConfig.SweepInterval).
func (s *MemoryStore) Sweep() {
	now := int64(time.Since(s.epoch))
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		sh.t.sweep(now)
		sh.mu.Unlock()
	}
}

// Close stops the clock's goroutine, if it runs; it is safe to call twice.
// Decisions keep working after Close, reading the system clock.
func (s *MemoryStore) Close() error {
	if s.clock != nil {
		s.clock.Stop()
	}
	return nil
}

// hash is the bucket hash of a check: the key's seeded hash combined with
// the policy's. The seed keeps clients from choosing keys that collide; the
// policy part needs no seed, as policies are the service's own.
func (s *MemoryStore) hash(c *Check) uint64 {
	ph := c.ph
	if ph == 0 {
		ph = policyHash(&c.Policy)
	}
	h := maphash.String(s.seed, c.Key) ^ ph
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	if h == 0 {
		h = 1 // 0 marks an empty slot
	}
	return h
}

// policyHash is FNV-1a over a policy's name, rate and burst; never 0.
func policyHash(p *Policy) uint64 {
	const prime = 1099511628211
	h := uint64(14695981039346656037)
	for i := 0; i < len(p.Name); i++ {
		h = (h ^ uint64(p.Name[i])) * prime
	}
	h = (h ^ math.Float64bits(float64(p.Rate))) * prime
	h = (h ^ uint64(p.Burst)) * prime
	if h == 0 {
		h = 1
	}
	return h
}

func (s *MemoryStore) shardIndex(h uint64) int {
	if s.shardBits == 0 {
		return 0
	}
	return int(h >> (64 - s.shardBits))
}

// takeAt decides checks at now (nanoseconds since the epoch). fromClock
// says that now is a reading of the store's clock, taken before the shard
// lock: a decision that lost the race for the lock to a later reading then
// counts as made at that reading's time, instead of moving the bucket's
// clock back (which would credit the time in between twice).
func (s *MemoryStore) takeAt(now int64, fromClock bool, checks []Check, res []Result) bool {
	if len(checks) == 1 {
		return s.take1(now, fromClock, &checks[0], &res[0])
	}

	var hs [MaxChecks]uint64
	var idx [MaxChecks]int
	for i := range checks {
		hs[i] = s.hash(&checks[i])
		idx[i] = s.shardIndex(hs[i])
	}
	// Lock the shards involved once each, in ascending order.
	var order [MaxChecks]int
	n := 0
	for i := range checks {
		if checks[i].Policy.Rate == rate.Inf {
			continue
		}
		dup := false
		for j := 0; j < n; j++ {
			if order[j] == idx[i] {
				dup = true
				break
			}
		}
		if !dup {
			order[n] = idx[i]
			n++
		}
	}
	for i := 1; i < n; i++ {
		for j := i; j > 0 && order[j] < order[j-1]; j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
	for i := 0; i < n; i++ {
		s.shards[order[i]].mu.Lock()
	}
	var cells [MaxChecks]cell
	var found [MaxChecks]bool
	all := true
	for i := range checks {
		p := checks[i].Policy
		if p.Rate == rate.Inf {
			res[i] = Result{Allowed: true, Remaining: p.Burst}
			continue
		}
		if sl := s.shards[idx[i]].t.find(hs[i]); sl != nil {
			cells[i], found[i] = sl.cell, true
		}
		for j := i - 1; j >= 0; j-- {
			if hs[j] == hs[i] && checks[j].Policy.Rate != rate.Inf {
				// The same bucket twice: decide against its state
				// after the earlier check's token.
				cells[i], found[i] = cells[j], true
				break
			}
		}
		if !decide(&cells[i], found[i], now, fromClock, &checks[i], &res[i]) {
			all = false
		}
	}
	if all {
		for i := range checks {
			if checks[i].Policy.Rate == rate.Inf {
				continue
			}
			sh := &s.shards[idx[i]]
			if sl := sh.t.find(hs[i]); sl != nil {
				sl.cell = cells[i]
			} else {
				s.insert(sh, hs[i], cells[i], now)
			}
		}
	} else {
		// Nothing is debited: report the undebited state of the buckets
		// that would have allowed.
		for i := range checks {
			p := checks[i].Policy
			if res[i].Allowed && p.Rate != rate.Inf {
				tokens := cells[i].tokens + 1
				res[i].Remaining = remaining(tokens)
				res[i].Reset = durationFromTokens(p.Rate, float64(p.Burst)-tokens)
			}
		}
	}
	for i := n - 1; i >= 0; i-- {
		s.shards[order[i]].mu.Unlock()
	}
	return all
}

// take1 is takeAt for a single check.
func (s *MemoryStore) take1(now int64, fromClock bool, c *Check, r *Result) bool {
	if c.Policy.Rate == rate.Inf {
		*r = Result{Allowed: true, Remaining: c.Policy.Burst}
		return true
	}
	h := s.hash(c)
	sh := &s.shards[s.shardIndex(h)]
	sh.mu.Lock()
	sl := sh.t.find(h)
	var cl cell
	if sl != nil {
		cl = sl.cell
	}
	ok := decide(&cl, sl != nil, now, fromClock, c, r)
	if ok {
		if sl != nil {
			sl.cell = cl
		} else {
			s.insert(sh, h, cl, now)
		}
	}
	sh.mu.Unlock()
	return ok
}

// decide applies x/time/rate's reserveN with n = 1 and no wait to cl (a
// zero cell when !found, which is a full bucket) and fills r. On success cl
// holds the debited state to store; on failure cl is left untouched.
func decide(cl *cell, found bool, now int64, fromClock bool, c *Check, r *Result) bool {
	p := &c.Policy
	burst := float64(p.Burst)
	tokens := burst
	last := now
	if found {
		last = cl.last
		if now < last {
			if fromClock {
				now = last
			} else {
				last = now
			}
		}
		tokens = cl.tokens + tokensFromDuration(p.Rate, time.Duration(now-last))
		if tokens > burst {
			tokens = burst
		}
	}
	tokens--
	var wait time.Duration
	if tokens < 0 {
		wait = durationFromTokens(p.Rate, -tokens)
	}
	if p.Burst >= 1 && wait <= 0 {
		cl.tokens = tokens
		cl.last = now
		// Reset is not part of x/time/rate's decision, so a prepared check
		// multiplies rather than divides. full errs late, never early, so
		// that dropping a full bucket changes nothing.
		var reset time.Duration
		if c.nspt > 0 {
			reset = capDuration((burst - tokens) * c.nspt)
		} else {
			reset = durationFromTokens(p.Rate, burst-tokens)
		}
		cl.full = now + int64(capDuration(float64(reset)*(1+1.0/(1<<20))+2))
		if cl.full < now {
			cl.full = math.MaxInt64
		}
		*r = Result{Allowed: true, Remaining: remaining(tokens), Reset: reset}
		return true
	}
	tokens++
	*r = Result{
		Remaining:  remaining(tokens),
		Reset:      durationFromTokens(p.Rate, burst-tokens),
		RetryAfter: durationFromTokens(p.Rate, 1-tokens),
	}
	if r.RetryAfter <= 0 {
		r.RetryAfter = 1 // a token is due within the nanosecond
	}
	return false
}

// remaining is the whole tokens in a bucket holding tokens.
func remaining(tokens float64) int {
	if tokens < 1 {
		return 0
	}
	return int(tokens)
}

// insert adds a new bucket to sh, sweeping the shard when it is due and
// evicting a bucket first when the shard holds its share of MaxKeys.
// sh.mu must be held.
func (s *MemoryStore) insert(sh *shard, h uint64, cl cell, now int64) {
	if s.sweepEvery > 0 && now >= sh.nextSweep {
		sh.t.sweep(now)
		sh.nextSweep = now + s.sweepEvery
	}
	if sh.t.n >= s.maxPerShard {
		sh.t.evict(h)
	}
	sh.t.insert(h, cl)
}
