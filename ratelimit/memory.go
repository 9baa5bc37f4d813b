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
		s.takeCheck(now, fromClock, &c, &r)
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
	c := k.c
	c.Key = key
	k.s.takeCheck(k.s.nanos(), true, &c, &r)
	return r
}

// AllowAt decides one request for key at the given time.
func (k *KeyLimiter) AllowAt(now time.Time, key string) Result {
	var r Result
	c := k.c
	c.Key = key
	k.s.takeCheck(int64(now.Sub(k.s.epoch)), false, &c, &r)
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

// hash is the bucket hash of a check: the key's seeded hash combined with
// the policy's. The seed keeps clients from choosing keys that collide; the
// policy part needs no seed, as policies are the service's own.
func (s *MemoryStore) hash(c *Check) uint64 {
	ph := c.prep.hash
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

func (s *MemoryStore) shardIndex(h uint64) int {
	if s.shardBits == 0 {
		return 0
	}
	return int(h >> (64 - s.shardBits))
}

// takeCheck decides a single check: one shard, one lock.
func (s *MemoryStore) takeCheck(now int64, fromClock bool, c *Check, r *Result) bool {
	if c.Policy.Rate == rate.Inf {
		*r = unlimited(&c.Policy)
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
	ok := takeToken(&cl, sl != nil, now, fromClock, c, r)
	if ok {
		s.store(sh, sl, h, cl, now)
	}
	sh.mu.Unlock()
	return ok
}

// takeAt decides checks at now (nanoseconds since the epoch), all or
// nothing. fromClock says that now is a reading of the store's clock, taken
// before the shard lock: a decision that lost the race for the lock to a
// later reading then counts as made at that reading's time, instead of
// moving the bucket's clock back (which would credit the time in between
// twice).
func (s *MemoryStore) takeAt(now int64, fromClock bool, checks []Check, res []Result) bool {
	if len(checks) == 1 {
		return s.takeCheck(now, fromClock, &checks[0], &res[0])
	}
	var b batch
	s.plan(&b, checks)
	s.lock(&b)
	var cells [MaxChecks]cell
	var found [MaxChecks]*slot
	all := true
	for k := 0; k < b.n; k++ {
		c := &checks[b.first[k]]
		if found[k] = s.shards[b.shard[k]].t.find(b.hash[k]); found[k] != nil {
			cells[k] = found[k].cell
		}
		if !takeToken(&cells[k], found[k] != nil, now, fromClock, c, &res[b.first[k]]) {
			all = false
		}
	}
	for k := 0; k < b.n; k++ {
		i := b.first[k]
		switch {
		case all:
			s.store(&s.shards[b.shard[k]], s.shards[b.shard[k]].t.find(b.hash[k]), b.hash[k], cells[k], now) // found anew: an earlier insert may have moved it
		case res[i].Allowed:
			// Nothing is debited: report the bucket as it stays.
			res[i] = untaken(&checks[i], cells[k])
		}
	}
	s.unlock(&b)
	b.fill(checks, res)
	return all
}

// refundAt gives back one token to each distinct bucket of checks at now.
func (s *MemoryStore) refundAt(now int64, fromClock bool, checks []Check, res []Result) {
	var b batch
	s.plan(&b, checks)
	s.lock(&b)
	for k := 0; k < b.n; k++ {
		i := b.first[k]
		sh := &s.shards[b.shard[k]]
		sl := sh.t.find(b.hash[k])
		if sl == nil {
			// A missing bucket is full: there is nothing to give back.
			res[i] = Result{Allowed: true, Remaining: checks[i].Policy.Burst}
			continue
		}
		refund(&sl.cell, now, fromClock, &checks[i], &res[i])
	}
	s.unlock(&b)
	b.fill(checks, res)
}

// store writes a debited cell back: in place when the bucket exists (sl),
// else as a new bucket. The shard's mutex must be held.
func (s *MemoryStore) store(sh *shard, sl *slot, h uint64, cl cell, now int64) {
	if sl != nil {
		sl.cell = cl
		return
	}
	if s.sweepEvery > 0 && now >= sh.nextSweep {
		sh.t.sweep(now)
		sh.nextSweep = now + s.sweepEvery
	}
	if sh.t.n >= s.maxPerShard {
		sh.t.evict(h)
	}
	sh.t.insert(h, cl)
}

// batch is the plan of a decision over several checks: its distinct
// buckets (a bucket named twice is decided once) and the shards they live
// in, to be locked once each in ascending order so that two decisions
// never wait for each other's locks.
type batch struct {
	n     int               // distinct limited buckets
	hash  [MaxChecks]uint64 // per bucket
	shard [MaxChecks]int    // per bucket
	first [MaxChecks]int    // per bucket: the first check naming it
	of    [MaxChecks]int    // per check: its bucket, or -1 for rate.Inf
	locks [MaxChecks]int    // distinct shards, ascending
	nlock int
}

// plan fills b for checks.
func (s *MemoryStore) plan(b *batch, checks []Check) {
	for i := range checks {
		b.of[i] = -1
		if checks[i].Policy.Rate == rate.Inf {
			continue
		}
		h := s.hash(&checks[i])
		k := 0
		for k < b.n && !(b.hash[k] == h && checks[b.first[k]].Policy == checks[i].Policy && checks[b.first[k]].Key == checks[i].Key) {
			k++
		}
		b.of[i] = k
		if k < b.n {
			continue // the same bucket again
		}
		b.hash[k], b.shard[k], b.first[k] = h, s.shardIndex(h), i
		b.n++
		b.addLock(b.shard[k])
	}
}

// addLock inserts shard into the sorted set of shards to lock.
func (b *batch) addLock(shard int) {
	j := 0
	for j < b.nlock && b.locks[j] < shard {
		j++
	}
	if j < b.nlock && b.locks[j] == shard {
		return
	}
	copy(b.locks[j+1:b.nlock+1], b.locks[j:b.nlock])
	b.locks[j] = shard
	b.nlock++
}

func (s *MemoryStore) lock(b *batch) {
	for _, i := range b.locks[:b.nlock] {
		s.shards[i].mu.Lock()
	}
}

func (s *MemoryStore) unlock(b *batch) {
	for j := b.nlock - 1; j >= 0; j-- {
		s.shards[b.locks[j]].mu.Unlock()
	}
}

// fill copies each bucket's result to the later checks naming it, and
// fills the results of unlimited checks.
func (b *batch) fill(checks []Check, res []Result) {
	for i := range checks {
		switch k := b.of[i]; {
		case k < 0:
			res[i] = unlimited(&checks[i].Policy)
		case b.first[k] != i:
			res[i] = res[b.first[k]]
		}
	}
}
