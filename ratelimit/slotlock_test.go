package ratelimit

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var slotTestPolicy = Policy{Name: "p", Rate: 1, Burst: 3}

// newSlotTestStore returns a one-shard store without background
// goroutines, holding bucket "k" after one decision at now.
func newSlotTestStore(t *testing.T, now time.Time) (*MemoryStore, *shard, uint64) {
	s := NewMemoryStore(MemoryConfig{Shards: 1, SweepInterval: -1, Resolution: -1})
	t.Cleanup(func() { _ = s.Close() })
	c := Check{Policy: slotTestPolicy, Key: "k"}
	require.True(t, s.AllowAt(now, c.Key, c.Policy).Allowed, "AllowAt(k) = refused, want allowed")
	return s, &s.shards[0], s.hash(&c, c.Key)
}

// TestMemoryExistingKeyNeedsNoShardMutex holds the shard's mutex while a
// decision on an existing key runs: it completes, and debits the bucket.
func TestMemoryExistingKeyNeedsNoShardMutex(t *testing.T) {
	now := time.Now()
	s, sh, _ := newSlotTestStore(t, now)
	sh.mu.Lock()
	done := make(chan Result)
	go func() { done <- s.AllowAt(now, "k", slotTestPolicy) }()
	var got Result
	select {
	case got = <-done:
	case <-time.After(time.Minute): // bounds only the failure: the decision waits for the mutex
		t.Fatal("AllowAt(k) on an existing bucket waits for the shard's mutex")
	}
	sh.mu.Unlock()
	assert.Equal(t, Result{Allowed: true, Remaining: 1, Reset: 2 * time.Second}, got, "AllowAt(k) = %+v, want the second token of 3", got)
}

// TestLockExisting covers the fast path's lookup: it locks the slot of an
// existing bucket, and gives up on an absent one or while a structural
// change is under way.
func TestLockExisting(t *testing.T) {
	_, sh, h := newSlotTestStore(t, time.Now())
	sl := sh.t.lockExisting(h)
	require.NotNil(t, sl, "lockExisting(k) = nil, want k's slot")
	assert.Equal(t, h|lockBit, sl.h, "lockExisting(k): slot word = %x, want %x (locked)", sl.h, h|lockBit)
	assert.Nil(t, sh.t.lockExisting(h^1<<40), "lockExisting(absent) = a slot, want nil")
	sl.unlock(h)
	sh.t.begin()
	assert.Nil(t, sh.t.lockExisting(h), "lockExisting(k) during a structural change = a slot, want nil")
	assert.Equal(t, h, sl.h, "slot word after a refused lockExisting = %x, want %x (unlocked)", sl.h, h)
	sh.t.end()
	sl = sh.t.lockExisting(h)
	require.NotNil(t, sl, "lockExisting(k) after the structural change = nil, want k's slot")
	sl.unlock(h)
}

// TestMemoryHashLeavesLockBitClear checks that no bucket hash has the low
// bit set, which is its slot's lock, or is 0, which marks an empty slot.
func TestMemoryHashLeavesLockBitClear(t *testing.T) {
	s := NewMemoryStore(MemoryConfig{Resolution: -1})
	defer s.Close()
	for i := range 10_000 {
		c := Check{Policy: slotTestPolicy, Key: strconv.Itoa(i)}
		h := s.hash(&c, c.Key)
		require.NotZero(t, h, "hash(%q) = 0, want non-zero", c.Key)
		require.Zero(t, h&lockBit, "hash(%q) = %x, want the low bit clear", c.Key, h)
	}
}
