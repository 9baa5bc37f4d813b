package ratelimit

import (
	"runtime"
	"sync/atomic"
)

// A slot's word h is its bucket's hash with the low bit clear (see
// MemoryStore.hash), or 0 for an empty slot; h|1 means the slot is locked.
// Every access to a slot's cell happens with its lock held, and every
// access to h is atomic, so a decision on an existing bucket needs no lock
// but its slot's, and touches one cache line.
//
// Who locks: a decision's fast path holds at most one slot lock at a time
// and never waits for a shard mutex while holding it; everything else takes
// the shard mutex first, then slot locks. So nothing waits for a lock while
// its holder waits for something else, and a slot lock is held for a few
// nanoseconds of arithmetic.
//
// Structural changes (insert, removal, growth, sweep, eviction) move
// buckets between slots. They hold the shard mutex, make the table's
// version odd before touching the first slot and even again after the
// last, and lock each slot they fill, empty, move or copy. A fast path
// reads an even version v before probing, locks the slot it found, then
// reads the version again: if it is still v, no structural change touched
// the table since the probe began, so the slot still holds its bucket, and
// a structural change starting later must wait for the slot lock before
// moving it. Go's atomics are sequentially consistent, and the lock's
// compare-and-swap and the unlocking store order the cell accesses, for
// the race detector too.

const lockBit = 1

// word reads s's hash atomically, without its lock bit; 0 means empty.
func (s *slot) word() uint64 { return atomic.LoadUint64(&s.h) &^ lockBit }

// lock waits until it holds s's lock, and returns s's hash.
func (s *slot) lock() uint64 {
	for {
		if w := atomic.LoadUint64(&s.h); w&lockBit == 0 && atomic.CompareAndSwapUint64(&s.h, w, w|lockBit) {
			return w
		}
		backoff()
	}
}

// lockIf locks s if it holds hash h, waiting while another holds its lock,
// and reports whether it did; false means s no longer holds h.
func (s *slot) lockIf(h uint64) bool {
	for {
		switch atomic.LoadUint64(&s.h) {
		case h:
			if atomic.CompareAndSwapUint64(&s.h, h, h|lockBit) {
				return true
			}
		case h | lockBit:
		default:
			return false
		}
		backoff()
	}
}

// unlock releases s's lock, leaving it holding hash h (0: empty).
func (s *slot) unlock(h uint64) { atomic.StoreUint64(&s.h, h) }

// backoff lets a slot lock's holder, which may have been descheduled,
// finish. It yields the processor a few times rather than spinning: a
// spinning reader pulls the slot's cache line away from the holder and
// slows it down, and on one key hammered from every core, waiting a few
// yields lets each core run decisions in runs instead of trading the line
// on every one.
func backoff() {
	for range backoffYields {
		runtime.Gosched()
	}
}

// backoffYields is how many times backoff yields. With 1, parallel
// decisions on one key ran about a third slower than under a mutex; 4 and
// more match it, and 4 keeps a waiter's delay short when other goroutines
// are runnable.
const backoffYields = 4
