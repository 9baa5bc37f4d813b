package ratelimit

import (
	"strings"
	"sync/atomic"
)

// lineCache holds the RateLimit-Policy and RateLimit field lines of the
// decisions of one Route, which name several policies: the caller's, then
// the route's. The policy line is kept for the last combination of
// policies seen (callers of one environment or plan share it), and value
// lines in a small table chosen by the cached values of their policies, so
// that a request within its limits usually sets both headers without
// formatting or allocating. Every entry is checked against what is asked.
type lineCache struct {
	policy atomic.Pointer[policyLine]
	values [lineSlots]atomic.Pointer[valueLine]
}

// lineSlots is the size of a lineCache's value table.
const (
	lineBits  = 8
	lineSlots = 1 << lineBits
)

// policyLine is a RateLimit-Policy line and the policies it lists.
type policyLine struct {
	pols  [MaxChecks]*compiled // unused ones nil
	field [1]string
}

// valueLine is a RateLimit line and the values it joins.
type valueLine struct {
	vals  [MaxChecks]*cachedValue // unused ones nil
	field [1]string
}

// policyLine returns the RateLimit-Policy line of pols.
func (c *lineCache) policyLine(pols []*compiled) []string {
	var key [MaxChecks]*compiled
	copy(key[:], pols)
	l := c.policy.Load()
	if l == nil || l.pols != key {
		l = &policyLine{pols: key}
		l.field[0] = joinPolicies(pols)
		c.policy.Store(l)
	}
	return l.field[:1:1]
}

// valueLine returns the RateLimit line of res, the results of pols, or
// nil when a value is one its policy's cache cannot hold.
func (c *lineCache) valueLine(pols []*compiled, res []Result) []string {
	var vals [MaxChecks]*cachedValue
	var h uint64
	for i, p := range pols {
		if vals[i] = p.values.lookup(&res[i]); vals[i] == nil {
			return nil
		}
		h = (h^uint64(vals[i].remaining)<<8^uint64(vals[i].t))*0x9E3779B97F4A7C15 + uint64(i)
	}
	slot := &c.values[h>>(64-lineBits)]
	l := slot.Load()
	if l == nil || l.vals != vals {
		l = &valueLine{vals: vals}
		l.field[0] = joinValues(vals[:len(pols)])
		slot.Store(l)
	}
	return l.field[:1:1]
}

// joinPolicies formats a RateLimit-Policy line: one item per policy.
func joinPolicies(pols []*compiled) string {
	var b strings.Builder
	for i, p := range pols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(p.field[0])
	}
	return b.String()
}

// joinValues formats a RateLimit line from its items.
func joinValues(vals []*cachedValue) string {
	var b strings.Builder
	for i, v := range vals {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(v.field[0])
	}
	return b.String()
}
