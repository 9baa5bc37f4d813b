package ratelimit_test

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/ratelimit"
)

// TestMemoryTakeWhileTableGrows decides a new bucket together with
// existing ones in a shard whose table must grow to take the new bucket
// in: every existing bucket still loses its token. (A decision that kept
// the slots it found across the insert wrote into the table's old
// array, and the debit was lost.)
func TestMemoryTakeWhileTableGrows(t *testing.T) {
	for existing := 1; existing <= 20; existing++ {
		t.Run(strconv.Itoa(existing)+" buckets", func(t *testing.T) {
			s := newMemStore(t, ratelimit.MemoryConfig{Shards: 1, SweepInterval: -1})
			p := ratelimit.Policy{Name: "p", Rate: 1, Burst: 10}
			for i := 0; i < existing; i++ {
				require.True(t, s.AllowAt(base0, "old"+strconv.Itoa(i), p).Allowed)
			}
			// The new bucket first, so that its insert comes before the
			// others are written back.
			checks := []ratelimit.Check{{Policy: p, Key: "new"}, {Policy: p, Key: "old0"}}
			res := make([]ratelimit.Result, len(checks))
			ok, err := s.TakeAt(base0, checks, res)
			require.NoError(t, err)
			require.True(t, ok)
			assert.Equal(t, 8, res[1].Remaining, "TakeAt(new, old0): old0 Remaining")
			got := s.AllowAt(base0, "old0", p).Remaining
			assert.Equal(t, 7, got, "AllowAt(old0).Remaining after TakeAt(new, old0) = %d, want 7", got)
		})
	}
}

// TestMemoryTakeKeepsDebitEvictedByItsOwnInsert decides a new bucket
// together with an existing one in a full shard: the new bucket's insert
// evicts the existing one, which the decision puts back with its debit
// (and the new bucket is the one that goes).
func TestMemoryTakeKeepsDebitEvictedByItsOwnInsert(t *testing.T) {
	s := newMemStore(t, ratelimit.MemoryConfig{Shards: 1, MaxKeys: 1})
	p := ratelimit.Policy{Name: "p", Rate: 1, Burst: 5}
	require.True(t, s.AllowAt(base0, "old", p).Allowed)
	checks := []ratelimit.Check{{Policy: p, Key: "new"}, {Policy: p, Key: "old"}}
	res := make([]ratelimit.Result, len(checks))
	ok, err := s.TakeAt(base0, checks, res)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, 3, res[1].Remaining, "TakeAt(new, old): old Remaining")
	assert.Equal(t, 1, s.Len(), "Len() after TakeAt(new, old) = %d, want MaxKeys 1", s.Len())
	got := s.AllowAt(base0, "old", p).Remaining
	assert.Equal(t, 2, got, "AllowAt(old).Remaining after TakeAt(new, old) = %d, want 2", got)
}
