package ratelimit

import (
	"context"
	"hash/maphash"
	"math/bits"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/faultline-go/faultline/internal/clock"
)

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
// independently locked shards. A decision on an existing key allocates
// nothing and, unless its shard is being rearranged at that moment, locks
// only the bucket's own slot and writes only the slot's cache line, so
// parallel decisions on different keys do not wait for each other; adding
// a key locks its shard. No goroutine runs per key, and none at all while
// the store is idle.
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
	mu        sync.Mutex // guards t's structure (not its lookups) and nextSweep
	t         table
	nextSweep int64
	_         [64 - 8 - 32 - 8]byte
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

// Allow decides one request against p for key, now: shorthand for
// AllowAt(time.Now(), key, p), on the store's coarse clock. A policy that
// Validate rejects is refused.
func (s *MemoryStore) Allow(key string, p Policy) Result {
	return s.allow(s.nanos(), true, Check{Policy: p, Key: key})
}

// AllowAt decides one request against p for key at the given time, so tests
// can drive the clock. Times before the bucket's last decision count as
// that decision's time, as in x/time/rate. A policy that Validate rejects
// is refused.
func (s *MemoryStore) AllowAt(now time.Time, key string, p Policy) Result {
	return s.allow(int64(now.Sub(s.epoch)), false, Check{Policy: p, Key: key})
}

func (s *MemoryStore) allow(now int64, fromClock bool, c Check) Result {
	var r Result
	if c.validate() == nil {
		s.takeCheck(now, fromClock, &c, c.Key, &r)
	}
	return r
}

// KeyLimiter is a policy bound to a MemoryStore: a token bucket per key,
// with the policy's part of the bucket hash computed once rather than on
// every decision. It is safe for concurrent use.
type KeyLimiter struct {
	s *MemoryStore
	c Check // Key unset
}

// Limiter binds p, which must be valid, to the store. Its decisions share
// the buckets of Allow and Take with the same policy and key.
func (s *MemoryStore) Limiter(p Policy) (*KeyLimiter, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &KeyLimiter{s: s, c: prepare(Check{Policy: p})}, nil
}

// Allow decides one request for key, now: shorthand for
// AllowAt(time.Now(), key), on the store's coarse clock.
func (k *KeyLimiter) Allow(key string) Result {
	var r Result
	k.s.takeCheck(k.s.nanos(), true, &k.c, key, &r)
	return r
}

// AllowAt decides one request for key at the given time.
func (k *KeyLimiter) AllowAt(now time.Time, key string) Result {
	var r Result
	k.s.takeCheck(int64(now.Sub(k.s.epoch)), false, &k.c, key, &r)
	return r
}

// nanos reads the store's clock: nanoseconds since the epoch.
func (s *MemoryStore) nanos() int64 {
	if s.clock != nil {
		return s.clock.Nanos()
	}
	return int64(time.Since(s.epoch))
}

// Take implements Store; it fails only for more than MaxChecks checks or
// fewer results than checks.
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

// Refund implements Store.
func (s *MemoryStore) Refund(_ context.Context, checks []Check, res []Result) error {
	if err := checkArgs(checks, res); err != nil {
		return err
	}
	s.refundAt(s.nanos(), true, checks, res)
	return nil
}

// RefundAt is Refund at the given time.
func (s *MemoryStore) RefundAt(now time.Time, checks []Check, res []Result) error {
	if err := checkArgs(checks, res); err != nil {
		return err
	}
	s.refundAt(int64(now.Sub(s.epoch)), false, checks, res)
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

// hash is the bucket hash of key under c's policy (c.Key is not read): the
// key's seeded hash combined with the policy's. The seed keeps clients from
// choosing keys that collide; the policy part needs no seed, as policies
// are the service's own.
func (s *MemoryStore) hash(c *Check, key string) uint64 {
	ph := c.prep.hash
	if ph == 0 {
		ph = policyHash(&c.Policy)
	}
	h := maphash.String(s.seed, key) ^ ph
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h &^= lockBit // the low bit of a slot's word is its lock
	if h == 0 {
		h = 2 // 0 marks an empty slot
	}
	return h
}

func (s *MemoryStore) shardIndex(h uint64) int {
	if s.shardBits == 0 {
		return 0
	}
	return int(h >> (64 - s.shardBits))
}

// takeCheck decides key under c's policy (c.Key is not read, so that a
// KeyLimiter need not copy its Check). On an existing bucket it takes only
// the bucket's slot lock (see slotlock.go); a new bucket, or a fast path
// that a structural change got in the way of, is decided under the
// shard's mutex.
func (s *MemoryStore) takeCheck(now int64, fromClock bool, c *Check, key string, r *Result) bool {
	if c.Policy.Rate == rate.Inf {
		*r = unlimited(&c.Policy)
		return true
	}
	h := s.hash(c, key)
	sh := &s.shards[s.shardIndex(h)]
	if sl := sh.t.lockExisting(h); sl != nil {
		ok := takeToken(&sl.cell, true, now, fromClock, c, r)
		sl.unlock(h)
		return ok
	}
	sh.mu.Lock()
	ok := s.takeLocked(sh, h, now, fromClock, c, r)
	sh.mu.Unlock()
	return ok
}

// takeLocked is takeCheck under the shard's mutex.
func (s *MemoryStore) takeLocked(sh *shard, h uint64, now int64, fromClock bool, c *Check, r *Result) bool {
	if sl := sh.t.find(h); sl != nil {
		sl.lock()
		ok := takeToken(&sl.cell, true, now, fromClock, c, r)
		sl.unlock(h)
		return ok
	}
	var cl cell
	ok := takeToken(&cl, false, now, fromClock, c, r)
	if ok {
		s.add(sh, h, cl, now)
	}
	return ok
}

// add stores a debited cell as a new bucket, sweeping the shard when it is
// due and evicting a bucket when the shard is full. The shard's mutex must
// be held and h must be absent.
func (s *MemoryStore) add(sh *shard, h uint64, cl cell, now int64) {
	if s.sweepEvery > 0 && now >= sh.nextSweep {
		sh.t.sweep(now)
		sh.nextSweep = now + s.sweepEvery
	}
	if sh.t.n >= s.maxPerShard {
		sh.t.evict(h)
	}
	sh.t.insert(h, cl)
}
