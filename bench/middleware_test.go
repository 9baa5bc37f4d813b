package bench

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/didip/tollbooth/v7"
	"github.com/go-chi/httprate"
	"github.com/sethvargo/go-limiter/httplimit"
)

// okBody is what the trivial handler writes.
var okBody = []byte(`{"ok":true}`)

// okHandler is the trivial handler behind every middleware.
var okHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(okBody)
})

// remoteIP keys a request on the host of RemoteAddr, as LimitByIP does.
func remoteIP(r *http.Request) (string, error) {
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr, nil
	}
	return ip, nil
}

// middlewareImpl is one rate-limit middleware under test; new returns nil
// when it is not available yet.
type middlewareImpl struct {
	name string
	new  func(tb testing.TB) (mw func(http.Handler) http.Handler, cleanup func())
}

func middlewareImpls() []middlewareImpl {
	return []middlewareImpl{
		{name: "faultline", new: faultlineMiddleware},
		{name: "httprate", new: func(tb testing.TB) (func(http.Handler) http.Handler, func()) {
			return httprate.LimitBy(benchBurst, time.Hour, remoteIP), nil
		}},
		{name: "go-limiter", new: func(tb testing.TB) (func(http.Handler) http.Handler, func()) {
			s := goLimiterStore(tb)
			m, err := httplimit.NewMiddleware(s, httplimit.IPKeyFunc())
			if err != nil {
				tb.Fatal(err)
			}
			return m.Handle, func() { s.Close(context.Background()) }
		}},
		{name: "tollbooth", new: func(tb testing.TB) (func(http.Handler) http.Handler, func()) {
			lmt := tollbooth.NewLimiter(benchRate, nil)
			return func(next http.Handler) http.Handler { return tollbooth.LimitHandler(lmt, next) }, nil
		}},
	}
}

// BenchmarkMiddleware serves one allowed request through each rate-limit
// middleware into a fresh httptest.ResponseRecorder; bare is the recorder
// and handler alone, the floor the others are measured above. Every
// request comes from the same address, so every decision is on one
// existing key.
func BenchmarkMiddleware(b *testing.B) {
	req := httptest.NewRequest(http.MethodGet, "/v1/things", nil)
	b.Run("bare", func(b *testing.B) { serveBench(b, okHandler, req) })
	for _, m := range middlewareImpls() {
		b.Run(m.name, func(b *testing.B) {
			mw, cleanup := m.new(b)
			if mw == nil {
				b.Skipf("%s middleware not available yet", m.name)
			}
			if cleanup != nil {
				defer cleanup()
			}
			serveBench(b, mw(okHandler), req)
		})
	}
}

func serveBench(b *testing.B, h http.Handler, req *http.Request) {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req) // warm the key
	if rec.Code != http.StatusOK {
		b.Fatalf("warm-up: status %d, want 200", rec.Code)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d, want 200", rec.Code)
		}
	}
}
