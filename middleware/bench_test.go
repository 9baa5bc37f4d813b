package middleware_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	chimw "github.com/go-chi/chi/v5/middleware"

	"github.com/faultline-go/faultline/middleware"
	"github.com/faultline-go/faultline/problem"
)

var benchBody = []byte(`{"id":"ord_1","status":"paid"}`)

// benchHandler is the trivial handler every benchmark serves: a small JSON
// 200.
var benchHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(benchBody)
})

// benchRenderer is a renderer that logs nowhere, as a production logger
// filtering out the level would.
func benchRenderer(b *testing.B, env string) *problem.Renderer {
	b.Helper()
	rd, err := problem.NewRenderer(problem.Config{Envelope: env, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	return rd
}

// benchServe serves one shared request through h per iteration, each with a
// fresh recorder.
func benchServe(b *testing.B, h http.Handler, want int) {
	b.Helper()
	req := httptest.NewRequest(http.MethodGet, "/v1/orders/ord_1", nil)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != want {
			b.Fatalf("status %d, want %d", rec.Code, want)
		}
	}
}

// BenchmarkBaseline is the recorder and the handler alone.
func BenchmarkBaseline(b *testing.B) {
	benchServe(b, benchHandler, http.StatusOK)
}

// BenchmarkChiRequestIDRecoverer is the peer the allowed-request budget is
// measured against.
func BenchmarkChiRequestIDRecoverer(b *testing.B) {
	benchServe(b, chimw.RequestID(chimw.Recoverer(benchHandler)), http.StatusOK)
}

// BenchmarkStack is faultline's Stack (RequestID and Recover) around the
// handler; it must be no slower than BenchmarkChiRequestIDRecoverer and
// allocate no more.
func BenchmarkStack(b *testing.B) {
	rd := benchRenderer(b, problem.EnvelopeProblem)
	benchServe(b, middleware.Stack(rd)(benchHandler), http.StatusOK)
}

// BenchmarkStackObserved is BenchmarkStack with an error observer, for
// which Stack records each request's start.
func BenchmarkStackObserved(b *testing.B) {
	rd, err := problem.NewRenderer(problem.Config{
		Logger:   slog.New(slog.DiscardHandler),
		Observer: func(context.Context, problem.ErrorEvent) {},
	})
	if err != nil {
		b.Fatal(err)
	}
	benchServe(b, middleware.Stack(rd)(benchHandler), http.StatusOK)
}

// BenchmarkStackIncomingID is BenchmarkStack with a valid incoming
// X-Request-Id to reuse.
func BenchmarkStackIncomingID(b *testing.B) {
	rd := benchRenderer(b, problem.EnvelopeProblem)
	h := middleware.RequestID(middleware.Recover(rd)(benchHandler))
	req := httptest.NewRequest(http.MethodGet, "/v1/orders/ord_1", nil)
	req.Header.Set(middleware.HeaderRequestID, "0b7d3c8e-6c43-4e1b-9d1f-2f4b8c2a1e90")
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
	}
}

// BenchmarkStackParallel is BenchmarkStack on every P.
func BenchmarkStackParallel(b *testing.B) {
	rd := benchRenderer(b, problem.EnvelopeProblem)
	h := middleware.RequestID(middleware.Recover(rd)(benchHandler))
	req := httptest.NewRequest(http.MethodGet, "/v1/orders/ord_1", nil)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			h.ServeHTTP(httptest.NewRecorder(), req)
		}
	})
}

// BenchmarkStackNotFound is the error path: the stack answering 404 in each
// envelope.
func BenchmarkStackNotFound(b *testing.B) {
	for _, env := range envelopes {
		b.Run(env, func(b *testing.B) {
			rd := benchRenderer(b, env)
			h := middleware.RequestID(middleware.Recover(rd)(http.HandlerFunc(middleware.NotFound)))
			benchServe(b, h, http.StatusNotFound)
		})
	}
}
