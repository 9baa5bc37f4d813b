package bench

import (
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
)

// BenchmarkDecisionSerial is one allowed decision on one existing key, from
// one goroutine.
func BenchmarkDecisionSerial(b *testing.B) {
	for _, im := range impls() {
		b.Run(im.name, func(b *testing.B) {
			s := im.open(b)
			if s.close != nil {
				defer s.close()
			}
			allow := s.decider()
			const key = "key-0000000"
			if !allow(key) {
				b.Fatalf("%s: warm-up decision denied", im.name)
			}
			denied := 0
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if !allow(key) {
					denied++
				}
			}
			b.StopTimer()
			if denied > 0 {
				b.Fatalf("%s: %d of %d decisions denied", im.name, denied, b.N)
			}
		})
	}
}

// BenchmarkDecisionParallel is one allowed decision on an existing key from
// GOMAXPROCS goroutines at once, all on one key (keys=1) or each walking
// 10,000 keys from a random offset (keys=10000).
func BenchmarkDecisionParallel(b *testing.B) {
	all := makeKeys(10000)
	for _, im := range impls() {
		b.Run(im.name, func(b *testing.B) {
			for _, n := range []int{1, 10000} {
				b.Run("keys="+strconv.Itoa(n), func(b *testing.B) {
					keys := all[:n]
					s := im.open(b)
					if s.close != nil {
						defer s.close()
					}
					warm := s.decider()
					for _, k := range keys {
						if !warm(k) {
							b.Fatalf("%s: warm-up decision denied", im.name)
						}
					}
					var denied atomic.Int64
					b.ReportAllocs()
					b.ResetTimer()
					b.RunParallel(func(pb *testing.PB) {
						allow := s.decider()
						i := rand.IntN(len(keys))
						d := 0
						for pb.Next() {
							if !allow(keys[i]) {
								d++
							}
							if i++; i == len(keys) {
								i = 0
							}
						}
						denied.Add(int64(d))
					})
					b.StopTimer()
					if d := denied.Load(); d > 0 {
						b.Fatalf("%s: %d of %d decisions denied", im.name, d, b.N)
					}
				})
			}
		})
	}
}

// bytesPerKeyKeys is the number of distinct keys BenchmarkBytesPerKey
// inserts.
const bytesPerKeyKeys = 1_000_000

// BenchmarkBytesPerKey measures the live heap each store holds per key once
// it holds 1,000,000 keys, as the B/key metric (ns/op is the time of the
// whole measurement and means little). The key strings are built before
// the first reading, so their own bytes are excluded unless a store copies
// them. It is slow, so it runs only when -bench names it explicitly
// (-bench BytesPerKey) and never under -short; use -benchtime 1x.
func BenchmarkBytesPerKey(b *testing.B) {
	if testing.Short() || !benchSelected("BytesPerKey") {
		b.Skip("slow: runs only with -bench naming BytesPerKey explicitly")
	}
	keys := makeKeys(bytesPerKeyKeys)
	for _, im := range impls() {
		b.Run(im.name, func(b *testing.B) {
			perKey, kept := measureBytesPerKey(b, im, keys)
			b.ReportMetric(perKey, "B/key")
			if kept >= 0 {
				b.ReportMetric(float64(kept), "keys-kept")
			}
		})
	}
}

// measureBytesPerKey opens im, inserts every key once and returns the
// growth of the live heap divided by len(keys), and the number of keys
// the store reports holding (-1 when it cannot tell).
func measureBytesPerKey(tb testing.TB, im impl, keys []string) (perKey float64, kept int) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&before)

	s := im.open(tb)
	allow := s.decider()
	for _, k := range keys {
		if !allow(k) {
			tb.Fatalf("%s: first decision on %s denied", im.name, k)
		}
	}

	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&after)
	kept = -1
	if s.len != nil {
		kept = s.len()
	}
	runtime.KeepAlive(s)
	runtime.KeepAlive(allow)
	runtime.KeepAlive(keys)
	if s.close != nil {
		s.close()
	}
	return float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(len(keys)), kept
}
