package ratelimit_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/middleware"
	"github.com/faultline-go/faultline/problem"
	"github.com/faultline-go/faultline/ratelimit"
)

// allEnvelopes are the built-in envelope names.
var allEnvelopes = []string{problem.EnvelopeFlat, problem.EnvelopeGoogle, problem.EnvelopeTracked, problem.EnvelopeProblem}

// discardLogger drops every record.
var discardLogger = slog.New(slog.DiscardHandler)

// steppedStore is a Store over a MemoryStore whose time only moves when the
// test says so.
type steppedStore struct {
	mem *ratelimit.MemoryStore
	mu  sync.Mutex // guards now
	now time.Time
}

var _ ratelimit.Store = (*steppedStore)(nil)

func newSteppedStore(t testing.TB) *steppedStore {
	s := &steppedStore{mem: newMemStore(t, ratelimit.MemoryConfig{}), now: base0}
	return s
}

func (s *steppedStore) Take(_ context.Context, checks []ratelimit.Check, res []ratelimit.Result) (bool, error) {
	s.mu.Lock()
	now := s.now
	s.mu.Unlock()
	return s.mem.TakeAt(now, checks, res)
}

func (s *steppedStore) Refund(_ context.Context, checks []ratelimit.Check, res []ratelimit.Result) error {
	s.mu.Lock()
	now := s.now
	s.mu.Unlock()
	return s.mem.RefundAt(now, checks, res)
}

func (s *steppedStore) Close() error { return s.mem.Close() }

func (s *steppedStore) advance(d time.Duration) {
	s.mu.Lock()
	s.now = s.now.Add(d)
	s.mu.Unlock()
}

// failingStore fails every decision.
type failingStore struct{ err error }

func (s failingStore) Take(context.Context, []ratelimit.Check, []ratelimit.Result) (bool, error) {
	return false, s.err
}

func (s failingStore) Refund(context.Context, []ratelimit.Check, []ratelimit.Result) error {
	return s.err
}

func (failingStore) Close() error { return nil }

// newLimiter is ratelimit.New that fails the test on error and closes the
// limiter at its end.
func newLimiter(t testing.TB, cfg ratelimit.Config) *ratelimit.Limiter {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = discardLogger
	}
	lim, err := ratelimit.New(cfg)
	require.NoError(t, err, "New(%+v) error = %v, want nil", cfg, err)
	t.Cleanup(func() { _ = lim.Close() })
	return lim
}

// renderer returns a BLUM renderer for env that logs nowhere.
func renderer(env string) *problem.Renderer {
	return problem.MustRenderer(problem.Config{Envelope: env, Prefix: "BLUM", Logger: discardLogger})
}

// okHandler answers 200 "ok".
var okHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
	_, _ = w.Write([]byte("ok"))
})

// chiStack is a chi router with RequestID, Recover and lim.Handler, and
// the /v1/ping endpoint; routes adds the test's own.
func chiStack(env string, lim *ratelimit.Limiter, routes func(r chi.Router)) *chi.Mux {
	r := chi.NewRouter()
	r.Use(middleware.RequestID, middleware.Recover(renderer(env)), lim.Handler)
	r.Get("/v1/ping", okHandler)
	if routes != nil {
		routes(r)
	}
	return r
}

// serve sends one request to h; mods adjust the request first. The
// recorder's Header is replaced by the headers as they were sent (when the
// status was written), so later changes to the map do not count.
func serve(h http.Handler, method, target string, mods ...func(*http.Request)) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, nil)
	for _, m := range mods {
		m(req)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	rec.HeaderMap = rec.Result().Header
	return rec
}

func fromAddr(addr string) func(*http.Request) {
	return func(r *http.Request) { r.RemoteAddr = addr }
}

func withHeader(k, v string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set(k, v) }
}

func basicAuth(key, secret string) func(*http.Request) {
	return func(r *http.Request) { r.SetBasicAuth(key, secret) }
}

// item is one member of a RateLimit or RateLimit-Policy list.
type item struct {
	name   string
	params map[string]int
}

// parseList parses a structured-field list of "name";k=v;k=v items.
func parseList(t testing.TB, header string) []item {
	t.Helper()
	var items []item
	if header == "" {
		return nil
	}
	for _, raw := range strings.Split(header, ", ") {
		parts := strings.Split(raw, ";")
		name, err := strconv.Unquote(parts[0])
		require.NoError(t, err, "item %q of %q: name not a quoted string", raw, header)
		it := item{name: name, params: map[string]int{}}
		for _, p := range parts[1:] {
			k, v, ok := strings.Cut(p, "=")
			require.True(t, ok, "item %q of %q: parameter %q without '='", raw, header, p)
			n, err := strconv.Atoi(v)
			require.NoError(t, err, "item %q of %q: parameter %q not an integer", raw, header, p)
			it.params[k] = n
		}
		items = append(items, it)
	}
	return items
}

// remaining returns the r of policy name in rec's RateLimit header, or -1.
func remaining(t testing.TB, rec *httptest.ResponseRecorder, name string) int {
	t.Helper()
	for _, it := range parseList(t, rec.Header().Get(ratelimit.HeaderRateLimit)) {
		if it.name == name {
			return it.params["r"]
		}
	}
	return -1
}

// refusedPolicy checks that rec is a 429 RESOURCE_EXHAUSTED in env's shape
// and returns the policy its details name.
func refusedPolicy(t testing.TB, env string, rec *httptest.ResponseRecorder) string {
	t.Helper()
	require.Equal(t, http.StatusTooManyRequests, rec.Code, "status = %d, want 429; body %s", rec.Code, rec.Body)
	var body map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), "429 body %q is not JSON", rec.Body)
	errObj, _ := body["error"].(map[string]any)
	switch env {
	case problem.EnvelopeFlat:
		assert.Equal(t, "BLUM-429-001", body["code"], "flat code = %v, want BLUM-429-001", body["code"])
		msg, _ := body["message"].(string)
		_, name, _ := strings.Cut(msg, `policy "`)
		name, _, _ = strings.Cut(name, `"`)
		return name
	case problem.EnvelopeGoogle:
		require.NotNil(t, errObj, "google body %s has no error object", rec.Body)
		assert.Equal(t, float64(429), errObj["code"], "google error.code = %v, want 429", errObj["code"])
		assert.Equal(t, "RESOURCE_EXHAUSTED", errObj["status"], "google error.status = %v, want RESOURCE_EXHAUSTED", errObj["status"])
		details, _ := errObj["details"].([]any)
		require.Len(t, details, 1, "google error.details = %v, want one entry", errObj["details"])
		d, _ := details[0].(map[string]any)
		assert.Equal(t, "RESOURCE_EXHAUSTED", d["reason"], "google details[0].reason = %v, want RESOURCE_EXHAUSTED", d["reason"])
		md, _ := d["metadata"].(map[string]any)
		name, _ := md["policy"].(string)
		return name
	case problem.EnvelopeTracked:
		require.NotNil(t, errObj, "tracked body %s has no error object", rec.Body)
		assert.Equal(t, "RATE_LIMIT_EXCEEDED", errObj["code"], "tracked error.code = %v, want RATE_LIMIT_EXCEEDED", errObj["code"])
		assert.Equal(t, rec.Header().Get(middleware.HeaderRequestID), errObj["request_id"], "tracked error.request_id = %v, want the X-Request-Id", errObj["request_id"])
		details, _ := errObj["details"].(map[string]any)
		name, _ := details["policy"].(string)
		return name
	case problem.EnvelopeProblem:
		assert.Equal(t, "RESOURCE_EXHAUSTED", body["code"], "problem code = %v, want RESOURCE_EXHAUSTED", body["code"])
		assert.Equal(t, float64(429), body["status"], "problem status = %v, want 429", body["status"])
		name, _ := body["policy"].(string)
		return name
	}
	t.Fatalf("unknown envelope %q", env)
	return ""
}

// retryAfter returns rec's Retry-After in seconds, failing the test unless
// it is a positive integer.
func retryAfter(t testing.TB, rec *httptest.ResponseRecorder) int {
	t.Helper()
	v := rec.Header().Get(ratelimit.HeaderRetryAfter)
	n, err := strconv.Atoi(v)
	require.NoError(t, err, "Retry-After = %q, want an integer", v)
	require.GreaterOrEqual(t, n, 1, "Retry-After = %d, want >= 1", n)
	return n
}

// recordingHandler is a slog.Handler that keeps the records it gets.
type recordingHandler struct {
	mu   sync.Mutex // guards recs
	recs []slog.Record
}

func (h *recordingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordingHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	h.recs = append(h.recs, r.Clone())
	h.mu.Unlock()
	return nil
}
func (h *recordingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *recordingHandler) WithGroup(string) slog.Handler      { return h }

func (h *recordingHandler) records() []slog.Record {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]slog.Record(nil), h.recs...)
}

func attrs(r slog.Record) map[string]string {
	m := map[string]string{}
	r.Attrs(func(a slog.Attr) bool { m[a.Key] = a.Value.String(); return true })
	return m
}

// authFunc is an Authenticator of the test's own, which (unlike
// StaticKeys) does not validate the policies it hands out.
type authFunc func(ctx context.Context, key, secret string) (*middleware.Principal, error)

func (f authFunc) Authenticate(ctx context.Context, key, secret string) (*middleware.Principal, error) {
	return f(ctx, key, secret)
}
