package main

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/problem"
)

// countingWriter counts the log records (lines) and bytes written to it.
type countingWriter struct {
	records, bytes atomic.Int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.records.Add(int64(bytes.Count(p, []byte{'\n'})))
	c.bytes.Add(int64(len(p)))
	return len(p), nil
}

// floodRequests are the client errors of a flood: bad credentials (401),
// an unknown path (404) and a key pair over its limit (429).
func floodRequests() []*http.Request {
	bad := httptest.NewRequest(http.MethodGet, "/v1/accounts/acc_1", nil)
	bad.SetBasicAuth("demo-key", "wrong-secret")
	missing := httptest.NewRequest(http.MethodGet, "/nope", nil)
	limited := httptest.NewRequest(http.MethodGet, "/v1/accounts/acc_1", nil)
	limited.SetBasicAuth("demo-key", "demo-secret")
	return []*http.Request{bad, missing, limited}
}

// flood sends floodRequests to h from two goroutines for d and returns the
// number of requests sent and their statuses.
func flood(h http.Handler, d time.Duration) (int64, map[int]int64) {
	var sent atomic.Int64
	var mu sync.Mutex // guards statuses
	statuses := map[int]int64{}
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for g := 0; g < 2; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reqs := floodRequests()
			local := map[int]int64{}
			for i := 0; time.Now().Before(deadline); i++ {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, reqs[i%len(reqs)])
				local[rec.Code]++
				sent.Add(1)
			}
			mu.Lock()
			for k, v := range local {
				statuses[k] += v
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	return sent.Load(), statuses
}

// TestLogFlood measures the log a flood of client errors writes. It runs
// only when FAULTLINE_FLOOD names its duration (FAULTLINE_FLOOD=10s), and
// reports requests, records and bytes.
func TestLogFlood(t *testing.T) {
	v := os.Getenv("FAULTLINE_FLOOD")
	if v == "" {
		t.Skip("FAULTLINE_FLOOD is not set")
	}
	d, err := time.ParseDuration(v)
	require.NoError(t, err, "FAULTLINE_FLOOD=%q", v)
	out := new(countingWriter)
	h, err := newServer(serverConfig{Problem: problem.Config{
		Prefix: "BLUM",
		Logger: slog.New(slog.NewJSONHandler(out, nil)),
	}})
	require.NoError(t, err)
	defer h.Close()
	sent, statuses := flood(h, d)
	t.Logf("%s flood: %d requests %v, %d records, %d bytes of log",
		d, sent, statuses, out.records.Load(), out.bytes.Load())
	// Three codes, each logged at most DefaultClientLogLimit times in
	// each second the flood touches.
	seconds := int64(d/time.Second) + 2
	assert.LessOrEqual(t, out.records.Load(), 3*problem.DefaultClientLogLimit*seconds,
		"records of a %s flood of three client-error codes", d)
}

// BenchmarkNotFound is the demo's 404 route beside a bare chi router's
// own 404, both logging as the demo does (JSON) into io.Discard.
func BenchmarkNotFound(b *testing.B) {
	demo, err := newServer(serverConfig{Problem: problem.Config{
		Prefix: "BLUM",
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
	}})
	require.NoError(b, err)
	defer demo.Close()
	bare := chi.NewRouter()
	bare.Get("/healthz", func(w http.ResponseWriter, r *http.Request) {})
	for _, bm := range []struct {
		name string
		h    http.Handler
	}{{"chi", bare}, {"demo", demo}} {
		b.Run(bm.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, "/nope", nil)
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				bm.h.ServeHTTP(rec, req)
				if rec.Code != http.StatusNotFound {
					b.Fatalf("GET /nope = %d, want 404", rec.Code)
				}
			}
		})
	}
}
