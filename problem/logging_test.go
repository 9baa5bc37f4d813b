package problem_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/catalog"
	"github.com/faultline-go/faultline/middleware"
	"github.com/faultline-go/faultline/problem"
)

// bigError is an error with a long text, made once so that calling Error
// allocates nothing.
type bigError struct{ text string }

func newBigError(n int) bigError { return bigError{strings.Repeat("e", n)} }

func (e bigError) Error() string { return e.text }

// bigStringer is a panic value with a long String, made once.
type bigStringer struct{ text string }

func (s bigStringer) String() string { return s.text }

const twentyMB = 20 << 20

func TestPanicValueCapped(t *testing.T) {
	big := strings.Repeat("x", twentyMB)
	tests := []struct {
		name       string
		value      any
		wantPrefix string
		wantSuffix string
	}{
		{"string", big, "xxxx", "…[truncated " + strconv.Itoa(twentyMB-problem.MaxLogTextBytes) + " bytes]"},
		{"bytes", []byte(big), "xxxx", "…[truncated " + strconv.Itoa(twentyMB-problem.MaxLogTextBytes) + " bytes]"},
		{"error", newBigError(twentyMB), "eeee", "…[truncated " + strconv.Itoa(twentyMB-problem.MaxLogTextBytes) + " bytes]"},
		{"Stringer", bigStringer{strings.Repeat("s", twentyMB)}, "ssss", "…[truncated " + strconv.Itoa(twentyMB-problem.MaxLogTextBytes) + " bytes]"},
		{"slice", make([]int, twentyMB/8), "[0 0 0", " more elements]"},
		{"named string", label(big), "xxxx", "…[truncated " + strconv.Itoa(twentyMB-problem.MaxLogTextBytes) + " bytes]"},
		{"map", bigMap(), "map[int]int with ", " entries"},
		{"small slice", []string{"a", "b"}, "[a b]", "[a b]"},
		{"small bytes", []byte("abc"), "abc", "abc"},
		{"small struct", struct{ A, B int }{1, 2}, "{1 2}", "{1 2}"},
		{"panicking String", (*nilStringer)(nil), "%!v(PANIC=", ")"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rd, logs := envRenderer(t, problem.EnvelopeProblem)
			h := middleware.Recover(rd)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(tt.value) }))
			req := httptest.NewRequest(http.MethodGet, "/x", nil)

			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			runtime.ReadMemStats(&after)

			assert.Equal(t, http.StatusInternalServerError, rec.Code, "status")
			line := logs.buf.Len()
			assert.Less(t, line, 64<<10, "log line of a %s panic = %d bytes, want < 64 KiB", tt.name, line)
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("a 20 MB %s panic: %d bytes of log, %d bytes allocated", tt.name, line, alloc)
			assert.Less(t, alloc, uint64(1<<20), "allocated %d bytes to answer a %s panic, want < 1 MiB", alloc, tt.name)

			r := logs.only(t)
			v, _ := r["panic"].(string)
			assert.True(t, strings.HasPrefix(v, tt.wantPrefix), "panic = %.40q..., want prefix %q", v, tt.wantPrefix)
			assert.True(t, strings.HasSuffix(v, tt.wantSuffix), "panic = ...%q, want suffix %q", tail(v), tt.wantSuffix)
			assert.NotContains(t, r, "error", "the panic value is logged once")
		})
	}
}

// label is a string type of its own, which a type switch on string misses.
type label string

// nilStringer's String panics on a nil receiver.
type nilStringer struct{ s string }

func (n *nilStringer) String() string { return n.s }

func bigMap() map[int]int {
	m := make(map[int]int, 1000)
	for i := 0; i < 1000; i++ {
		m[i] = i
	}
	return m
}

func tail(s string) string {
	if len(s) > 60 {
		return s[len(s)-60:]
	}
	return s
}

func TestErrorTextCapped(t *testing.T) {
	rd, logs := envRenderer(t, problem.EnvelopeFlat)
	write(rd, "/x", fmt.Errorf("load: %w", newBigError(1<<20)))
	write(rd, "/x", problem.New(catalog.NotFound, strings.Repeat("m", 1<<20)).WithCause(newBigError(1<<20)))
	recs := logs.records(t)
	require.Len(t, recs, 2)
	for i, attr := range []string{"error", "error", "message"} {
		r := recs[min(i, 1)]
		v, _ := r[attr].(string)
		assert.LessOrEqual(t, len(v), problem.MaxLogTextBytes+40, "record %d %s is %d bytes", i, attr, len(v))
		assert.Contains(t, v, "…[truncated ", "record %d %s has no truncation marker", i, attr)
	}
}

func TestCapAtRuneBoundary(t *testing.T) {
	// 3-byte runes: MaxLogTextBytes (8192) falls inside one.
	rd, logs := envRenderer(t, problem.EnvelopeFlat)
	write(rd, "/x", &problem.PanicError{Value: strings.Repeat("€", 5000)})
	v := logs.only(t)["panic"].(string)
	assert.True(t, utf8.ValidString(v), "capped panic value is not UTF-8")
	kept := strings.Count(v, "€")
	assert.Equal(t, problem.MaxLogTextBytes/3, kept, "runes kept")
	assert.True(t, strings.HasSuffix(v, "…[truncated "+strconv.Itoa(15000-3*kept)+" bytes]"), "marker of %q", tail(v))
}

func TestPanicErrorTextCapped(t *testing.T) {
	pe := &problem.PanicError{Value: strings.Repeat("x", twentyMB)}
	got := pe.Error()
	assert.LessOrEqual(t, len(got), problem.MaxLogTextBytes+64, "len(PanicError.Error()) = %d", len(got))
	assert.True(t, strings.HasPrefix(got, "panic: xxx"), "PanicError.Error() = %.20q", got)
}

func TestPanickingErrorMethod(t *testing.T) {
	// An Error method that panics (nil receiver) must not take the
	// renderer down with it.
	rd, logs := envRenderer(t, problem.EnvelopeFlat)
	var nilErr *nilPanicError
	rec := write(rd, "/x", nilErr)
	assert.Equal(t, http.StatusInternalServerError, rec.Code, "status")
	assert.Contains(t, logs.only(t)["error"], "PANIC=", "error of a panicking Error method")
}

type nilPanicError struct{ msg string }

func (e *nilPanicError) Error() string { return e.msg }

// clock is an injectable renderer clock.
type clock struct {
	mu  sync.Mutex // guards now
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestClientLogLimit(t *testing.T) {
	tests := []struct {
		name  string
		limit int
		err   error
		n     int // errors in one second
		want  int // records written
	}{
		{"default limit", 0, notFound(), 100, problem.DefaultClientLogLimit},
		{"own limit", 3, notFound(), 100, 3},
		{"below the limit", 3, notFound(), 2, 2},
		{"off", problem.NoLogLimit, notFound(), 100, 100},
		{"5xx always logged", 3, errors.New("db down"), 100, 100},
		{"502 always logged", 3, problem.New(catalog.BadGateway, ""), 100, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := &clock{now: fixedNow}
			rd, logs := newRenderer(t, problem.Config{ClientLogLimit: tt.limit, Now: clk.Now}, slog.LevelInfo)
			for i := 0; i < tt.n; i++ {
				write(rd, "/x", tt.err)
			}
			assert.Len(t, logs.records(t), tt.want, "records of %d errors in a second with ClientLogLimit %d", tt.n, tt.limit)
		})
	}
}

func TestClientLogLimitReportsSuppressed(t *testing.T) {
	clk := &clock{now: fixedNow}
	rd, logs := newRenderer(t, problem.Config{ClientLogLimit: 2, Now: clk.Now}, slog.LevelInfo)
	unauth := problem.New(catalog.InvalidCredentials, "")
	for i := 0; i < 5; i++ {
		write(rd, "/x", notFound())
		write(rd, "/x", unauth)
	}
	clk.Advance(time.Second)
	write(rd, "/x", notFound())
	clk.Advance(3 * time.Second)
	write(rd, "/x", notFound())
	write(rd, "/x", unauth)

	type rec struct {
		code       string
		suppressed any
	}
	var got []rec
	for _, r := range logs.records(t) {
		got = append(got, rec{r["code"].(string), r["suppressed"]})
	}
	assert.Equal(t, []rec{
		{"NOT_FOUND", nil}, {"INVALID_CREDENTIALS", nil}, // each code has its own limit
		{"NOT_FOUND", nil}, {"INVALID_CREDENTIALS", nil},
		{"NOT_FOUND", 3.0}, // the next second: the three dropped
		{"NOT_FOUND", nil},
		{"INVALID_CREDENTIALS", 3.0},
	}, got, "records (code, suppressed)")
}

func TestClientLogLimitConcurrent(t *testing.T) {
	clk := &clock{now: fixedNow}
	rd, logs := newRenderer(t, problem.Config{ClientLogLimit: 10, Now: clk.Now}, slog.LevelInfo)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				write(rd, "/x", notFound())
			}
		}()
	}
	wg.Wait()
	assert.Len(t, logs.records(t), 10, "records of 1600 concurrent errors in one second, limit 10")
}

func TestPathCapped(t *testing.T) {
	rd, logs := envRenderer(t, problem.EnvelopeFlat)
	long := "/" + strings.Repeat("a", 100<<10)
	write(rd, long, notFound())
	req := httptest.NewRequest(http.MethodGet, long, nil)
	ctx, cancel := context.WithCancel(req.Context())
	cancel()
	rd.Write(httptest.NewRecorder(), req.WithContext(ctx), fmt.Errorf("read: %w: %s", context.Canceled, strings.Repeat("x", 100<<10)))
	recs := logs.records(t)
	require.Len(t, recs, 2, "records of a 404 and a client gone")
	assert.Equal(t, "client went away", recs[1]["msg"], "second record")
	for _, r := range recs {
		for _, attr := range []string{"path", "error"} {
			if v, ok := r[attr].(string); ok {
				assert.LessOrEqual(t, len(v), problem.MaxLogTextBytes+40, "%s record's %s is %d bytes", r["msg"], attr, len(v))
			}
		}
	}
}
