package problem_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/middleware"
	"github.com/faultline-go/faultline/problem"
)

// envelopes are the built-in envelope names; tests whose output shape
// matters run once under each.
var envelopes = []string{
	problem.EnvelopeFlat,
	problem.EnvelopeGoogle,
	problem.EnvelopeTracked,
	problem.EnvelopeProblem,
}

// discardLogger drops every record.
var discardLogger = slog.New(slog.DiscardHandler)

// fixedNow is the renderer clock of the tests: a zone other than UTC, so
// the tests see that timestamps are converted.
var fixedNow = time.Date(2025, 3, 14, 16, 9, 26, 535_000_000, time.FixedZone("CET", 3600))

// fixedTimestamp is fixedNow as the tracked envelope writes it.
const fixedTimestamp = "2025-03-14T15:09:26.535Z"

// testRequestID is the incoming X-Request-Id that middleware.RequestID
// adopts in the tests that need a stable id.
const testRequestID = "req-7f3a9c"

var (
	excIDPattern = regexp.MustCompile(`exc_[0-9a-z]{26}`)
	// uuidPattern matches the ids the renderer makes; their version and
	// variant bits are internal/reqctx's to test.
	uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
)

// logs collects the JSON records of a renderer's logger.
type logs struct{ buf bytes.Buffer }

// records returns the logged records, oldest first.
func (l *logs) records(t testing.TB) []map[string]any {
	t.Helper()
	var recs []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(l.buf.Bytes()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rec map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &rec), "log line %q", sc.Text())
		recs = append(recs, rec)
	}
	require.NoError(t, sc.Err())
	return recs
}

// only returns the single logged record, failing if there are more or fewer.
func (l *logs) only(t testing.TB) map[string]any {
	t.Helper()
	recs := l.records(t)
	require.Len(t, recs, 1, "log records: %s", l.buf.String())
	return recs[0]
}

// newRenderer returns a renderer for cfg with a fixed clock (unless cfg has
// one) whose logger writes JSON at level and above into the returned logs.
func newRenderer(t testing.TB, cfg problem.Config, level slog.Level) (*problem.Renderer, *logs) {
	t.Helper()
	l := new(logs)
	cfg.Logger = slog.New(slog.NewJSONHandler(&l.buf, &slog.HandlerOptions{Level: level}))
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return fixedNow }
	}
	rd, err := problem.NewRenderer(cfg)
	require.NoError(t, err, "NewRenderer(%+v)", cfg)
	return rd, l
}

// envRenderer is newRenderer for a named envelope, logging at DEBUG.
func envRenderer(t testing.TB, env string) (*problem.Renderer, *logs) {
	t.Helper()
	return newRenderer(t, problem.Config{Envelope: env}, slog.LevelDebug)
}

// serveThroughRequestID answers req with err through rd behind
// middleware.RequestID, so the request id is the incoming X-Request-Id.
func serveThroughRequestID(rd *problem.Renderer, req *http.Request, err error) *httptest.ResponseRecorder {
	req.Header.Set(problem.HeaderRequestID, testRequestID)
	rec := httptest.NewRecorder()
	middleware.RequestID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rd.Write(w, r, err)
	})).ServeHTTP(rec, req)
	return rec
}

// write answers a GET of target with err through rd, without middleware.
func write(rd *problem.Renderer, target string, err error) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	rd.Write(rec, httptest.NewRequest(http.MethodGet, target, nil), err)
	return rec
}

// decodeObject decodes a JSON object, failing on anything else.
func decodeObject(t testing.TB, body []byte) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(body, &m), "body %s", body)
	require.NotNil(t, m, "body %s is not an object", body)
	return m
}

// object returns m[key] as an object, failing if it is anything else.
func object(t testing.TB, m map[string]any, key string) map[string]any {
	t.Helper()
	v, ok := m[key].(map[string]any)
	require.True(t, ok, "%q = %#v, want an object", key, m[key])
	return v
}

// array returns m[key] as an array, failing if it is anything else (null
// included).
func array(t testing.TB, m map[string]any, key string) []any {
	t.Helper()
	v, ok := m[key].([]any)
	require.True(t, ok, "%q = %#v, want an array", key, m[key])
	return v
}

// spyWriter records what a ResponseWriter is told, and whether it was told
// anything at all (status 0 means WriteHeader was never called).
type spyWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
	writes int
}

func newSpy() *spyWriter { return &spyWriter{header: http.Header{}} }

func (w *spyWriter) Header() http.Header { return w.header }
func (w *spyWriter) WriteHeader(code int) {
	w.writes++
	if w.status == 0 {
		w.status = code
	}
}
func (w *spyWriter) Write(b []byte) (int, error) {
	w.writes++
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(b)
}

// committedWriter is a writer that reports its response as gone out.
type committedWriter struct{ *spyWriter }

func (committedWriter) Committed() bool { return true }

// errReader fails every read with err.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// chunked hides the length of a body from httptest.NewRequest, as a
// Transfer-Encoding: chunked request does (ContentLength -1).
func chunked(s string) io.Reader { return io.MultiReader(bytes.NewReader([]byte(s))) }
