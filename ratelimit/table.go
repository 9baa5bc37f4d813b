package ratelimit

import (
	"math"
	"math/bits"
)

// table is an open-addressing hash table of buckets keyed by non-zero
// 64-bit hashes, with linear probing and backward-shift deletion. A slot is
// 32 bytes and the table grows by half when it is 7/8 full, so a bucket
// costs about 45 bytes on average, and a decision on an existing key is one
// probe sequence with the bucket updated in place. It is not safe for
// concurrent use; the shard's mutex guards it.
type table struct {
	slots []slot
	n     int  // occupied slots
	shift uint // low bits of a hash that select the shard are shifted out
}

// slot is one bucket; h == 0 marks an empty slot.
type slot struct {
	h uint64
	cell
}

// cell is one bucket's state, with times in nanoseconds since the store's
// epoch.
type cell struct {
	tokens float64
	last   int64
	full   int64 // when the bucket is full again; it can be dropped then
}

// home is the slot a hash probes first: the hash's bits below the shard
// selector, mapped onto the table by multiplication.
func (t *table) home(h uint64) int {
	hi, _ := bits.Mul64(h<<t.shift|h>>(64-t.shift), uint64(len(t.slots)))
	return int(hi)
}

// find returns the slot holding h, or nil.
func (t *table) find(h uint64) *slot {
	if len(t.slots) == 0 {
		return nil
	}
	for i := t.home(h); ; {
		s := &t.slots[i]
		switch s.h {
		case h:
			return s
		case 0:
			return nil
		}
		if i++; i == len(t.slots) {
			i = 0
		}
	}
}

// insert adds h, which must be absent, and returns its slot. The pointer is
// valid until the next insert.
func (t *table) insert(h uint64, c cell) *slot {
	if (t.n+1)*8 > len(t.slots)*7 {
		t.grow()
	}
	for i := t.home(h); ; {
		s := &t.slots[i]
		if s.h == 0 {
			*s = slot{h: h, cell: c}
			t.n++
			return s
		}
		if i++; i == len(t.slots) {
			i = 0
		}
	}
}

func (t *table) grow() {
	size := max(8, len(t.slots)+len(t.slots)/2)
	old := t.slots
	t.slots = make([]slot, size)
	t.n = 0
	for i := range old {
		if old[i].h != 0 {
			t.insert(old[i].h, old[i].cell)
		}
	}
}

// remove empties slot i, shifting back the slots after it whose probe
// sequence passes through it.
func (t *table) remove(i int) {
	n := len(t.slots)
	for {
		t.slots[i] = slot{}
		j := i
		for {
			if j++; j == n {
				j = 0
			}
			if t.slots[j].h == 0 {
				t.n--
				return
			}
			// The element at j may fill the hole at i only if its home is
			// not cyclically within (i, j].
			k := t.home(t.slots[j].h)
			if i <= j {
				if i < k && k <= j {
					continue
				}
			} else if i < k || k <= j {
				continue
			}
			t.slots[i] = t.slots[j]
			i = j
			break
		}
	}
}

// evict removes, among up to 8 occupied slots from start on, the bucket
// that is (or will be) full soonest.
func (t *table) evict(start uint64) {
	if t.n == 0 {
		return
	}
	victim, best := -1, int64(math.MaxInt64)
	i := t.home(start)
	for seen := 0; seen < 8 && seen < t.n; {
		if s := &t.slots[i]; s.h != 0 {
			if s.full < best {
				victim, best = i, s.full
			}
			seen++
		}
		if i++; i == len(t.slots) {
			i = 0
		}
	}
	t.remove(victim)
}

// sweep removes every bucket that is full at now.
func (t *table) sweep(now int64) {
	for i := 0; i < len(t.slots); {
		if s := &t.slots[i]; s.h != 0 && s.full <= now {
			t.remove(i) // may shift another bucket into i: look again
			continue
		}
		i++
	}
}
