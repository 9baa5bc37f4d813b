package problem

import (
	"sync"
	"sync/atomic"
)

// DefaultClientLogLimit is the number of client-error (4xx) records a
// renderer writes per code per second when Config.ClientLogLimit is 0.
const DefaultClientLogLimit = 20

// NoLogLimit as Config.ClientLogLimit writes a record for every client
// error.
const NoLogLimit = -1

// logLimiter bounds the client-error records of each code to limit per
// second. Past the limit, errors are counted instead of logged, and the next
// record of the code that is written carries the count.
//
// The hot path is lock-free and allocation-free: a copy-on-write map from
// code name to window, read through an atomic pointer, and atomic counters
// in the window. The map only grows when a code is seen for the first time,
// so it holds at most the catalog's codes.
type logLimiter struct {
	limit   int64
	windows atomic.Pointer[map[string]*logWindow] // never modified once stored
	mu      sync.Mutex                            // serializes the copies that add to windows
}

// logWindow counts the errors of one code in the current second.
//
// The three counters are updated without a lock, so at a second's boundary
// a few errors may be counted in the wrong second; the bound stays within a
// few records of limit, and no error goes uncounted.
type logWindow struct {
	sec     atomic.Int64 // the second counted, in Unix seconds
	n       atomic.Int64 // errors of the code seen in sec
	dropped atomic.Int64 // errors dropped since the last record written
}

func newLogLimiter(limit int) *logLimiter {
	if limit < 0 {
		return nil
	}
	if limit == 0 {
		limit = DefaultClientLogLimit
	}
	l := &logLimiter{limit: int64(limit)}
	l.windows.Store(&map[string]*logWindow{})
	return l
}

// admit reports whether an error of code in second sec is logged, and if
// so how many errors of code were dropped since the last record written.
func (l *logLimiter) admit(code string, sec int64) (ok bool, dropped int64) {
	w := (*l.windows.Load())[code]
	if w == nil {
		w = l.add(code)
	}
	if cur := w.sec.Load(); cur != sec && w.sec.CompareAndSwap(cur, sec) {
		w.n.Store(0)
	}
	if w.n.Add(1) > l.limit {
		w.dropped.Add(1)
		return false, 0
	}
	return true, w.dropped.Swap(0)
}

// add returns the window of code, adding one if there is none.
func (l *logLimiter) add(code string) *logWindow {
	l.mu.Lock()
	defer l.mu.Unlock()
	old := *l.windows.Load()
	if w := old[code]; w != nil {
		return w
	}
	m := make(map[string]*logWindow, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	w := new(logWindow)
	m[code] = w
	l.windows.Store(&m)
	return w
}
