package ratelimit

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// Every value the cache returns is the one formatting gives, whichever
// slot it falls in and whatever the slot held before; a value asked for
// again comes from the cache.
func TestValueCache(t *testing.T) {
	for _, tc := range []struct {
		name   string
		policy Policy
		exact  bool
		ask    []Result // asked in order, each twice
	}{
		{"small, every value", Policy{Name: "sandbox", Rate: 10, Burst: 10}, true, []Result{
			{Remaining: 9, Reset: 100 * time.Millisecond},
			{Remaining: 0, Reset: time.Second},
			{Remaining: 10},
			{Remaining: 0, Reset: 1500 * time.Millisecond}, // t past the window: formatted, not cached
		}},
		{"huge, nearly full", Policy{Name: "huge", Rate: 1e9, Burst: MaxBurst}, false, []Result{
			{Remaining: MaxBurst - 1, Reset: time.Nanosecond},
			{Remaining: MaxBurst - 2, Reset: 2 * time.Nanosecond},
			// The slot of MaxBurst-1 one run of slots further on.
			{Remaining: MaxBurst - 1 - nearValues, Reset: 2049 * time.Nanosecond},
			{Remaining: MaxBurst - 1, Reset: time.Nanosecond},
			{Remaining: 0, Reset: time.Second},
		}},
		{"slow refill", Policy{Name: "daily", Rate: 0.001, Burst: 100}, false, []Result{
			{Remaining: 99, Reset: 1000 * time.Second},
			{Remaining: 99, Reset: 999 * time.Second},
			{Remaining: 98, Reset: 2000 * time.Second},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c valueCache
			c.init(tc.policy)
			assert.Equal(t, tc.exact, c.exact, "exact")
			for _, r := range tc.ask {
				want := `"` + tc.policy.Name + `";r=` + strconv.Itoa(r.Remaining) + ";t=" + strconv.FormatInt(wholeSeconds(r.Reset), 10)
				first := c.get(&r)
				again := c.get(&r)
				assert.Equal(t, []string{want}, first, "get(%+v)", r)
				assert.Equal(t, first, again, "get(%+v) again", r)
				if c.slot(int64(r.Remaining), wholeSeconds(r.Reset)) != nil {
					assert.Same(t, &first[0], &again[0], "get(%+v) again: not the cached value", r)
				}
			}
		})
	}
}

// The line cache of a Route gives the lines formatting gives, for any mix
// of policy combinations and results, and the cached ones again.
func TestLineCache(t *testing.T) {
	compileAll := func(ps ...Policy) []*compiled {
		var cs []*compiled
		for _, p := range ps {
			c, err := compileOne(p)
			if err != nil {
				t.Fatalf("compileOne(%+v) = _, %v", p, err)
			}
			cs = append(cs, c)
		}
		return cs
	}
	cs := compileAll(Policy{Name: "sandbox", Rate: 10, Burst: 10}, Policy{Name: "reports", Rate: 2, Burst: 2},
		Policy{Name: "huge", Rate: 1e9, Burst: MaxBurst})
	var c lineCache
	for _, pols := range [][]*compiled{{cs[0], cs[1]}, {cs[0], cs[2]}, {cs[0], cs[1]}, {cs[0], cs[1], cs[2]}} {
		want := pols[0].field[0]
		for _, p := range pols[1:] {
			want += ", " + p.field[0]
		}
		first := c.policyLine(pols)
		assert.Equal(t, []string{want}, first, "policyLine(%s)", want)
		assert.Same(t, &first[0], &c.policyLine(pols)[0], "policyLine(%s) again: not the cached line", want)
	}

	pols := []*compiled{cs[0], cs[1], cs[2]}
	for i := 0; i < 2000; i++ {
		res := []Result{
			{Remaining: i % 11, Reset: time.Duration(i%7) * 150 * time.Millisecond},
			{Remaining: i % 3, Reset: time.Duration(i%5) * 300 * time.Millisecond},
			{Remaining: MaxBurst - i%3000, Reset: time.Duration(i) * time.Nanosecond},
		}
		var want string
		for k, p := range pols {
			if k > 0 {
				want += ", "
			}
			want += string(appendValue(nil, p.policy.Name, &res[k]))
		}
		got := c.valueLine(pols, res)
		if wholeSeconds(res[0].Reset) > 1 || wholeSeconds(res[1].Reset) > 1 {
			assert.Nil(t, got, "valueLine(%s): a value past its policy's cache", want)
			continue
		}
		if assert.Equal(t, []string{want}, got, "valueLine(%+v)", res) {
			assert.Same(t, &got[0], &c.valueLine(pols, res)[0], "valueLine(%s) again: not the cached line", want)
		}
	}
}
