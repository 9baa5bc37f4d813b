package bench

import (
	"flag"
	"fmt"
	"strings"
	"testing"
)

// A decider decides one request for key and reports whether it was
// allowed. A decider is used by one goroutine at a time.
type decider func(key string) bool

// store is one opened in-memory limiter.
type store struct {
	// decider returns a decider for one goroutine; deciders of one store
	// share its state. Most implementations return the same function each
	// time.
	decider func() decider
	// close releases the store; nil when there is nothing to release.
	close func()
	// len, when not nil, returns the number of keys the store holds.
	len func() int
}

// impl is one rate limiter under test.
type impl struct {
	name string
	// open builds a fresh limiter whose policy allows every decision the
	// benchmarks make (about 1e9 decisions per second, a burst of about
	// 1<<30).
	open func(tb testing.TB) store
}

// impls returns every in-memory implementation: ours first, then the peers.
func impls() []impl {
	return append(faultlineImpls(), peerImpls()...)
}

const (
	// benchRate and benchBurst make a policy generous enough that every
	// decision of a benchmark is allowed.
	benchRate  = 1e9
	benchBurst = 1 << 30
)

// makeKeys returns n distinct key strings of equal length ("key-0000042").
func makeKeys(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("key-%07d", i)
	}
	return keys
}

// benchSelected reports whether the -test.bench pattern names the
// benchmark explicitly (by a substring of its name), so slow measurements
// run only when asked for.
func benchSelected(name string) bool {
	f := flag.Lookup("test.bench")
	return f != nil && strings.Contains(f.Value.String(), name)
}
