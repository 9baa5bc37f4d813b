package ratelimit

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTableModel runs random inserts, updates, removals, evictions and
// sweeps against a map and checks the table holds exactly the same buckets,
// with hashes crowded into few home slots so probe sequences wrap and
// collide.
func TestTableModel(t *testing.T) {
	for _, shift := range []uint{0, 8} {
		r := rand.New(rand.NewPCG(uint64(shift), 42))
		tb := table{shift: shift}
		model := map[uint64]cell{}
		key := func() uint64 { return uint64(r.IntN(300))<<(64-shift)>>0 | uint64(r.IntN(40)+1)<<1 }
		for step := 0; step < 50_000; step++ {
			h := key()
			switch op := r.IntN(10); {
			case op < 6: // decide: update or insert
				c := cell{tokens: float64(step), full: int64(r.IntN(1000))}
				if s := tb.find(h); s != nil {
					s.lock()
					s.cell = c
					s.unlock(h)
				} else {
					tb.insert(h, c)
				}
				model[h] = c
			case op < 8: // remove
				if s := tb.find(h); s != nil {
					slots := tb.slots()
					for i := range slots {
						if &slots[i] == s {
							s.lock()
							tb.begin()
							tb.remove(slots, i)
							tb.end()
						}
					}
					delete(model, h)
				}
			case op < 9: // evict
				if tb.n > 0 {
					tb.evict(h)
					for k := range model {
						if tb.find(k) == nil {
							delete(model, k)
						}
					}
				}
			default: // sweep
				now := int64(r.IntN(1000))
				tb.sweep(now)
				for k, c := range model {
					if c.full <= now {
						delete(model, k)
					}
				}
			}
			require.Equal(t, len(model), tb.n, "step %d: table holds %d buckets, want %d", step, tb.n, len(model))
			require.Zero(t, tb.ver.Load()%2, "step %d: version = %d, want even between changes", step, tb.ver.Load())
			if step%500 == 0 {
				for i := range tb.slots() {
					require.Zero(t, tb.slots()[i].h&lockBit, "step %d: slot %d left locked", step, i)
				}
				for k, c := range model {
					s := tb.find(k)
					require.NotNil(t, s, "step %d: find(%x) = nil, want the bucket", step, k)
					require.Equal(t, c, s.cell, "step %d: find(%x).cell", step, k)
				}
			}
		}
	}
}

// TestTableEvictNeverFull evicts from a table whose buckets never refill
// (full saturated at the maximum time): one of them still goes.
func TestTableEvictNeverFull(t *testing.T) {
	tb := table{}
	for h := uint64(2); h <= 8; h += 2 {
		tb.insert(h<<40, cell{full: math.MaxInt64})
	}
	tb.evict(2 << 40)
	assert.Equal(t, 3, tb.n, "table.n after evict = %d, want 3", tb.n)
}
