package ratelimit

import (
	"sync/atomic"
	"time"
)

// valueCache holds the RateLimit field values of one policy decided alone,
// so that the common response sets the header without formatting (or
// allocating) it. A policy with few values, (burst+1) × (seconds to refill
// + 1) of them up to exactValues, has a slot for each. A larger policy has
// nearValues slots for its nearly full buckets, a client well within its
// limit being the common response: the slot of a value is chosen by how
// far the bucket is from full, and holds the last value seen there. Every
// slot is checked against the value asked for, so a miss only formats.
type valueCache struct {
	name  string
	burst int64
	maxT  int64 // whole seconds to refill from empty
	exact bool  // a slot per value, else per distance from full
	slots []atomic.Pointer[cachedValue]
}

// cachedValue is one RateLimit field value and what it says.
type cachedValue struct {
	remaining, t int64
	field        [1]string
}

const (
	// exactValues bounds the values of a policy cached one slot each.
	exactValues = 4096
	// nearValues is the number of slots of a larger policy; a power of two.
	nearValues = 2048
)

func (c *valueCache) init(p Policy) {
	c.name = p.Name
	c.burst = int64(p.Burst)
	c.maxT = int64(p.Window() / time.Second)
	// Validate bounds both factors, so the product cannot overflow.
	n := (c.burst + 1) * (c.maxT + 1)
	c.exact = n <= exactValues
	if !c.exact {
		n = nearValues
	}
	c.slots = make([]atomic.Pointer[cachedValue], n)
}

// slot returns the slot for (remaining, t), or nil when none may hold it.
func (c *valueCache) slot(remaining, t int64) *atomic.Pointer[cachedValue] {
	if remaining < 0 || remaining > c.burst || t < 0 {
		return nil
	}
	if c.exact {
		if t > c.maxT {
			return nil
		}
		return &c.slots[remaining*(c.maxT+1)+t]
	}
	// Consecutive distances from full take consecutive slots; t moves
	// the run by a multiplicative hash, as it changes only slowly with
	// the distance.
	const golden = 0x9E3779B97F4A7C15
	i := (uint64(c.burst-remaining) + uint64(t)*golden) & (nearValues - 1)
	return &c.slots[i]
}

// get returns the field value for r, formatting it only when its slot
// holds another.
func (c *valueCache) get(r *Result) []string {
	if v := c.lookup(r); v != nil {
		return v.field[:1:1]
	}
	return []string{string(appendValue(nil, c.name, r))}
}

// lookup returns the cached value for r, formatting and caching it when its
// slot holds another, or nil when no slot may hold it.
func (c *valueCache) lookup(r *Result) *cachedValue {
	rem, t := int64(r.Remaining), wholeSeconds(r.Reset)
	s := c.slot(rem, t)
	if s == nil {
		return nil
	}
	v := s.Load()
	if v == nil || v.remaining != rem || v.t != t {
		v = &cachedValue{remaining: rem, t: t}
		v.field[0] = string(appendValue(nil, c.name, r))
		s.Store(v)
	}
	return v
}
