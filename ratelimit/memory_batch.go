package ratelimit

import "golang.org/x/time/rate"

// takeAt decides checks at now (nanoseconds since the epoch), all or
// nothing. fromClock says that now is a reading of the store's clock, taken
// before the shard lock: a decision that lost the race for the lock to a
// later reading then counts as made at that reading's time, instead of
// moving the bucket's clock back (which would credit the time in between
// twice).
func (s *MemoryStore) takeAt(now int64, fromClock bool, checks []Check, res []Result) bool {
	if len(checks) == 1 {
		return s.takeCheck(now, fromClock, &checks[0], checks[0].Key, &res[0])
	}
	var b batch
	s.plan(&b, checks)
	s.lock(&b)
	var cells [MaxChecks]cell
	var found [MaxChecks]*slot
	absent := s.lockSlots(&b, &found)
	all := true
	for k := 0; k < b.n; k++ {
		if found[k] != nil {
			cells[k] = found[k].cell
		}
		if !takeToken(&cells[k], found[k] != nil, now, fromClock, &checks[b.first[k]], &res[b.first[k]]) {
			all = false
		}
	}
	for k := 0; k < b.n; k++ {
		i := b.first[k]
		switch {
		case all && found[k] != nil:
			found[k].cell = cells[k]
		case !all && res[i].Allowed:
			// Nothing is debited: report the bucket as it stays.
			res[i] = untaken(&checks[i], cells[k])
		}
	}
	s.unlockSlots(&b, &found)
	if all && absent {
		s.addAll(&b, &found, &cells, now)
	}
	s.unlock(&b)
	b.fill(checks, res)
	return all
}

// lockSlots finds the slot of each of b's buckets and locks it, and
// reports whether a bucket is absent. Two buckets whose hashes collide
// share a slot, which is locked once.
func (s *MemoryStore) lockSlots(b *batch, found *[MaxChecks]*slot) (absent bool) {
	for k := 0; k < b.n; k++ {
		sl := s.shards[b.shard[k]].t.find(b.hash[k])
		found[k] = sl
		switch {
		case sl == nil:
			absent = true
		case !holds(found[:k], sl):
			sl.lock()
		}
	}
	return absent
}

// unlockSlots releases the slot locks lockSlots took.
func (s *MemoryStore) unlockSlots(b *batch, found *[MaxChecks]*slot) {
	for k := 0; k < b.n; k++ {
		if sl := found[k]; sl != nil && !holds(found[:k], sl) {
			sl.unlock(b.hash[k])
		}
	}
}

// holds reports whether slots holds sl.
func holds(slots []*slot, sl *slot) bool {
	for _, x := range slots {
		if x == sl {
			return true
		}
	}
	return false
}

// addAll stores, in order, each debited bucket of b that is missing: the
// new ones, and any an earlier insert of the same decision evicted. The
// shards' mutexes must be held, and no slot lock.
func (s *MemoryStore) addAll(b *batch, found *[MaxChecks]*slot, cells *[MaxChecks]cell, now int64) {
	for k := 0; k < b.n; k++ {
		sh := &s.shards[b.shard[k]]
		if sl := sh.t.find(b.hash[k]); sl == nil {
			s.add(sh, b.hash[k], cells[k], now)
		} else if found[k] == nil {
			// An earlier bucket of the decision with the same hash was
			// added: as in place, the last one wins.
			sl.lock()
			sl.cell = cells[k]
			sl.unlock(b.hash[k])
		}
	}
}

// refundAt gives back one token to each distinct bucket of checks at now.
func (s *MemoryStore) refundAt(now int64, fromClock bool, checks []Check, res []Result) {
	var b batch
	s.plan(&b, checks)
	s.lock(&b)
	for k := 0; k < b.n; k++ {
		i := b.first[k]
		sl := s.shards[b.shard[k]].t.find(b.hash[k])
		if sl == nil {
			// A missing bucket is full: there is nothing to give back.
			res[i] = Result{Allowed: true, Remaining: checks[i].Policy.Burst}
			continue
		}
		sl.lock()
		refund(&sl.cell, now, fromClock, &checks[i], &res[i])
		sl.unlock(b.hash[k])
	}
	s.unlock(&b)
	b.fill(checks, res)
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
		h := s.hash(&checks[i], checks[i].Key)
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
