package ratelimit_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/go-chi/chi/v5"
	chimw "github.com/go-chi/chi/v5/middleware"

	"github.com/faultline-go/faultline/middleware"
	"github.com/faultline-go/faultline/problem"
	"github.com/faultline-go/faultline/ratelimit"
)

// generous admits every request of a benchmark.
var generous = ratelimit.Policy{Name: "bench", Rate: 1e9, Burst: 1 << 30}

// BenchmarkMemoryAllow is an allowed decision on one existing key, through
// the store's coarse clock.
func BenchmarkMemoryAllow(b *testing.B) {
	s := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{})
	defer s.Close()
	s.Allow("key-1", generous)
	b.ReportAllocs()
	for b.Loop() {
		if !s.Allow("key-1", generous).Allowed {
			b.Fatal("Allow() refused")
		}
	}
}

// BenchmarkMemoryAllowParallel is allowed decisions from GOMAXPROCS
// goroutines (or 32 per processor, as on a busy server), on one shared
// key or spread over 10,000 existing keys.
func BenchmarkMemoryAllowParallel(b *testing.B) {
	for _, tc := range []struct{ keys, perProc int }{{1, 1}, {10_000, 1}, {1, 32}, {10_000, 32}} {
		n := tc.keys
		b.Run("keys="+strconv.Itoa(n)+"/goroutines-per-proc="+strconv.Itoa(tc.perProc), func(b *testing.B) {
			s := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{})
			defer s.Close()
			keys := make([]string, n)
			for i := range keys {
				keys[i] = "client-" + strconv.Itoa(i)
				s.Allow(keys[i], generous)
			}
			var next atomic.Int64
			b.ReportAllocs()
			b.SetParallelism(tc.perProc)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := int(next.Add(7919)) // each goroutine starts elsewhere
				for pb.Next() {
					if i++; i >= n {
						i = 0
					}
					if !s.Allow(keys[i], generous).Allowed {
						b.Error("Allow() refused")
						return
					}
				}
			})
		})
	}
}

// BenchmarkMemoryTake2 is an allowed decision of two policies on one key.
func BenchmarkMemoryTake2(b *testing.B) {
	s := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{})
	defer s.Close()
	reports := generous
	reports.Name = "reports"
	checks := []ratelimit.Check{{Policy: generous, Key: "key-1"}, {Policy: reports, Key: "key-1"}}
	res := make([]ratelimit.Result, 2)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := s.Take(ctx, checks, res); !ok || err != nil {
			b.Fatalf("Take() = %v, %v", ok, err)
		}
	}
}

// BenchmarkBytesPerKey reports the live heap per key of a MemoryStore with
// the default configuration holding 1,000,000 keys (the key strings, made
// beforehand, are not counted). It measures once, whatever b.N.
func BenchmarkBytesPerKey(b *testing.B) {
	const n = 1_000_000
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "client-" + strconv.Itoa(i)
	}
	growth, s := heapGrowth(keys, ratelimit.MemoryConfig{}, generous)
	defer s.Close()
	runtime.KeepAlive(keys)
	for b.Loop() {
	}
	b.ReportMetric(float64(growth)/float64(s.Len()), "B/key")
	b.ReportMetric(float64(s.Len()), "keys")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkMiddleware serves one request per iteration into a fresh
// recorder: the trivial handler alone (bare), under limiter.Handler, both
// again under middleware.RequestID, and on a chi router (alone, with a
// Route policy in place of Handler, and with both). Every decision is
// allowed, on one existing key.
func BenchmarkMiddleware(b *testing.B) {
	handler := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"ok":true}`))
	})
	newLim := func(b *testing.B) *ratelimit.Limiter {
		p := generous
		lim := ratelimit.MustNew(ratelimit.Config{Policy: p})
		b.Cleanup(func() { _ = lim.Close() })
		return lim
	}
	tests := []struct {
		name string
		h    func(b *testing.B) http.Handler
	}{
		{"bare", func(*testing.B) http.Handler { return handler }},
		{"limiter", func(b *testing.B) http.Handler { return newLim(b).Handler(handler) }},
		// With the request state made by an earlier faultline
		// middleware, as in a real stack.
		{"requestid", func(*testing.B) http.Handler { return middleware.RequestID(handler) }},
		{"requestid+limiter", func(b *testing.B) http.Handler { return middleware.RequestID(newLim(b).Handler(handler)) }},
		{"chi", func(*testing.B) http.Handler {
			r := chi.NewRouter()
			r.Get("/v1/reports", handler)
			return r
		}},
		// The whole allowed-request stack of the design budget, beside
		// chi's RequestID and Recoverer alone around the same handler.
		{"chi-requestid+recoverer", func(*testing.B) http.Handler {
			return chimw.RequestID(chimw.Recoverer(handler))
		}},
		{"stack:requestid+recover+auth+limiter", func(b *testing.B) http.Handler {
			keys, err := middleware.NewStaticKeys(middleware.KeyPair{Key: "bench-key", Secret: "bench-secret"})
			if err != nil {
				b.Fatal(err)
			}
			rd := problem.MustRenderer(problem.Config{Logger: slog.New(slog.DiscardHandler)})
			return middleware.RequestID(middleware.Recover(rd)(middleware.KeyAuth(keys)(newLim(b).Handler(handler))))
		}},
		// Route in place of Handler: both policies in one decision.
		{"route", func(b *testing.B) http.Handler {
			r := chi.NewRouter()
			r.With(newLim(b).Route("reports", ratelimit.Policy{Rate: 1e9, Burst: 1 << 30})).Get("/v1/reports", handler)
			return r
		}},
		{"limiter+route", func(b *testing.B) http.Handler {
			lim := newLim(b)
			r := chi.NewRouter()
			r.Use(lim.Handler)
			r.With(lim.Route("reports", ratelimit.Policy{Rate: 1e9, Burst: 1 << 30})).Get("/v1/reports", handler)
			return r
		}},
	}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			h := tt.h(b)
			req := httptest.NewRequest(http.MethodGet, "/v1/reports", nil)
			req.SetBasicAuth("bench-key", "bench-secret")
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d, want 200", rec.Code)
				}
			}
		})
	}
}
