package ratelimit

import (
	"math"
	"math/bits"
	"sync/atomic"
)

// table is an open-addressing hash table of buckets keyed by non-zero
// 64-bit hashes with the low bit clear, with linear probing and
// backward-shift deletion. A slot is 32 bytes and the table grows by half
// when it is 7/8 full, so a bucket costs about 45 bytes on average, and a
// decision on an existing key is one probe sequence with the bucket
// updated in place. Lookups (lockExisting, lookup) are safe at any time;
// every other method needs the shard's mutex. See slotlock.go for how the
// two meet.
type table struct {
	ver   atomic.Uint64          // odd while a structural change is under way
	arr   atomic.Pointer[[]slot] // the slots; grow replaces them
	n     int                    // occupied slots
	shift uint                   // low bits of a hash that select the shard are shifted out
}

// slot is one bucket; h == 0 marks an empty slot, and h's low bit is the
// slot's lock.
type slot struct {
	h uint64 // atomic access only
	cell
}

// cell is one bucket's state, with times in nanoseconds since the store's
// epoch. It is read and written only with its slot's lock held.
type cell struct {
	tokens float64
	last   int64
	full   int64 // when the bucket is full again; it can be dropped then
}

// slots returns the table's current slots (nil before the first insert).
func (t *table) slots() []slot {
	if p := t.arr.Load(); p != nil {
		return *p
	}
	return nil
}

// home is the slot a hash probes first among size slots: the hash's bits
// below the shard selector, mapped onto the table by multiplication.
func (t *table) home(h uint64, size int) int {
	hi, _ := bits.Mul64(h<<t.shift|h>>(64-t.shift), uint64(size))
	return int(hi)
}

// lookup returns the slot of slots holding h, or nil. It reads only slot
// words, so it is safe while the table changes, and gives up after one
// round of the slots.
func (t *table) lookup(slots []slot, h uint64) *slot {
	if len(slots) == 0 {
		return nil
	}
	for i, n := t.home(h, len(slots)), 0; n < len(slots); n++ {
		switch slots[i].word() {
		case h:
			return &slots[i]
		case 0:
			return nil
		}
		if i++; i == len(slots) {
			i = 0
		}
	}
	return nil
}

// find returns the slot holding h, or nil. The shard's mutex must be held
// for the answer to last.
func (t *table) find(h uint64) *slot { return t.lookup(t.slots(), h) }

// lockExisting finds h's slot and locks it, without the shard's mutex. It
// returns nil when h is absent or a structural change got in the way; the
// caller then decides under the mutex. It probes by compare-and-swap, so
// that the slot's cache line comes over once, for writing, rather than
// once to be read and again to be written.
func (t *table) lockExisting(h uint64) *slot {
	v := t.ver.Load()
	p := t.arr.Load()
	if v&1 != 0 || p == nil {
		return nil
	}
	slots := *p
	for i, n := t.home(h, len(slots)), len(slots); n > 0; n-- {
		s := &slots[i]
		if !atomic.CompareAndSwapUint64(&s.h, h, h|lockBit) {
			switch s.word() {
			case h:
				if !s.lockIf(h) { // locked by another
					return nil
				}
			case 0:
				return nil
			default:
				if i++; i == len(slots) {
					i = 0
				}
				continue
			}
		}
		if t.ver.Load() != v {
			s.unlock(h)
			return nil
		}
		return s
	}
	return nil
}

// begin and end bracket a structural change, making the version odd
// before it touches a slot and even again after.
func (t *table) begin() { t.ver.Add(1) }
func (t *table) end()   { t.ver.Add(1) }

// insert adds h, which must be absent, holding c.
func (t *table) insert(h uint64, c cell) {
	t.begin()
	if (t.n+1)*8 > len(t.slots())*7 {
		t.grow()
	}
	t.place(t.slots(), h, c)
	t.n++
	t.end()
}

// place puts h, holding c, in the first empty slot of its probe sequence.
func (t *table) place(slots []slot, h uint64, c cell) {
	for i := t.home(h, len(slots)); ; {
		if s := &slots[i]; s.word() == 0 {
			s.lock()
			s.cell = c
			s.unlock(h)
			return
		}
		if i++; i == len(slots) {
			i = 0
		}
	}
}

// grow copies every bucket into a new array half as large again, each
// under its slot's lock, and publishes it. The old array is left as it
// was, for the lookups still reading it to find out from the version.
func (t *table) grow() {
	old := t.slots()
	next := make([]slot, max(8, len(old)+len(old)/2))
	for i := range old {
		s := &old[i]
		h := s.lock()
		if h != 0 {
			t.place(next, h, s.cell)
		}
		s.unlock(h)
	}
	t.arr.Store(&next)
}

// remove empties slot i of slots, whose lock the caller holds, shifting
// back the slots after it whose probe sequence passes through it. It is
// part of a structural change the caller began.
func (t *table) remove(slots []slot, i int) {
	n := len(slots)
	for j := i; ; {
		if j++; j == n {
			j = 0
		}
		h := slots[j].word()
		if h == 0 {
			slots[i].cell = cell{}
			slots[i].unlock(0)
			t.n--
			return
		}
		if within(i, t.home(h, n), j) {
			continue // its probe sequence does not pass through i
		}
		slots[j].lock()
		slots[i].cell = slots[j].cell
		slots[i].unlock(h)
		i = j // locked, and to be emptied in turn
	}
}

// within reports whether k is cyclically within (i, j].
func within(i, k, j int) bool {
	if i <= j {
		return i < k && k <= j
	}
	return i < k || k <= j
}

// evict removes, among up to 8 occupied slots from start's home on, the
// bucket that is (or will be) full soonest.
func (t *table) evict(start uint64) {
	if t.n == 0 {
		return
	}
	t.begin()
	slots := t.slots()
	victim, best := -1, int64(math.MaxInt64)
	i := t.home(start, len(slots))
	for seen := 0; seen < 8 && seen < t.n; {
		if s := &slots[i]; s.word() != 0 {
			h := s.lock()
			if victim < 0 || s.full < best {
				victim, best = i, s.full
			}
			s.unlock(h)
			seen++
		}
		if i++; i == len(slots) {
			i = 0
		}
	}
	slots[victim].lock()
	t.remove(slots, victim)
	t.end()
}

// sweep removes every bucket that is full at now. The structural change
// begins with the first removal, so a sweep that removes nothing never
// sends a decision to the shard's mutex.
func (t *table) sweep(now int64) {
	slots := t.slots()
	changed := false
	for i := 0; i < len(slots); {
		s := &slots[i]
		if s.word() != 0 {
			h := s.lock()
			if s.full <= now {
				if !changed {
					t.begin()
					changed = true
				}
				t.remove(slots, i) // may shift another bucket into i: look again
				continue
			}
			s.unlock(h)
		}
		i++
	}
	if changed {
		t.end()
	}
}
