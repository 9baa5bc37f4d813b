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
		l.field[0] = joinItems(pols)
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
		l.field[0] = joinItems(vals[:len(pols)])
		slot.Store(l)
	}
	return l.field[:1:1]
}

// joinItems formats a field line of structured-field list items: the
// policies of a RateLimit-Policy line, or the values of a RateLimit line.
func joinItems[T interface{ item() string }](items []T) string {
	var b strings.Builder
	for i, it := range items {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(it.item())
	}
	return b.String()
}

// item is the policy's RateLimit-Policy list item.
func (c *compiled) item() string { return c.field[0] }

// item is the RateLimit list item of the value.
func (v *cachedValue) item() string { return v.field[0] }
