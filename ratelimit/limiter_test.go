package ratelimit_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	chimw "github.com/go-chi/chi/v5/middleware"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

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

func TestLimiterSandboxHeadersAndRefusal(t *testing.T) {
	for _, env := range allEnvelopes {
		t.Run(env, func(t *testing.T) {
			store := newSteppedStore(t)
			lim := newLimiter(t, ratelimit.Config{Store: store})
			h := chiStack(env, lim, nil)
			for i := 0; i < 10; i++ {
				rec := serve(h, http.MethodGet, "/v1/ping")
				require.Equal(t, http.StatusOK, rec.Code, "request %d: status = %d, want 200", i+1, rec.Code)
				got := rec.Header().Get(ratelimit.HeaderRateLimitPolicy)
				assert.Equal(t, `"sandbox";q=10;w=1`, got, "request %d: RateLimit-Policy = %q", i+1, got)
				want := `"sandbox";r=` + strconv.Itoa(9-i) + `;t=1`
				got = rec.Header().Get(ratelimit.HeaderRateLimit)
				assert.Equal(t, want, got, "request %d: RateLimit = %q, want %q", i+1, got, want)
				assert.Empty(t, rec.Header().Get(ratelimit.HeaderRetryAfter), "request %d: Retry-After on a 200", i+1)
			}
			rec := serve(h, http.MethodGet, "/v1/ping")
			assert.Equal(t, "sandbox", refusedPolicy(t, env, rec), "refused policy, want sandbox")
			assert.NotEmpty(t, rec.Header().Get(middleware.HeaderRequestID), "429 without X-Request-Id")
			assert.Equal(t, `"sandbox";q=10;w=1`, rec.Header().Get(ratelimit.HeaderRateLimitPolicy), "429 RateLimit-Policy")
			items := parseList(t, rec.Header().Get(ratelimit.HeaderRateLimit))
			require.Len(t, items, 1, "429 RateLimit = %q, want one item", rec.Header().Get(ratelimit.HeaderRateLimit))
			assert.Equal(t, 0, items[0].params["r"], "429 RateLimit r = %d, want 0", items[0].params["r"])
			ra := retryAfter(t, rec)
			assert.LessOrEqual(t, ra, items[0].params["t"], "Retry-After = %d, want <= t = %d", ra, items[0].params["t"])
			// One token 100ms later.
			store.advance(100 * time.Millisecond)
			rec = serve(h, http.MethodGet, "/v1/ping")
			assert.Equal(t, http.StatusOK, rec.Code, "status after 100ms = %d, want 200", rec.Code)
			assert.Equal(t, 0, remaining(t, rec, "sandbox"), "r after 100ms, want 0")
		})
	}
}

// TestLimiterRealClock uses the limiter's own MemoryStore. The policy
// refills once a minute, so the test cannot race the clock.
func TestLimiterRealClock(t *testing.T) {
	lim := newLimiter(t, ratelimit.Config{Policy: ratelimit.Policy{Name: "minute", Rate: rate.Every(time.Minute), Burst: 3}})
	h := chiStack(problem.EnvelopeProblem, lim, nil)
	for i := 0; i < 3; i++ {
		rec := serve(h, http.MethodGet, "/v1/ping")
		require.Equal(t, http.StatusOK, rec.Code, "request %d: status = %d, want 200", i+1, rec.Code)
		assert.Equal(t, 2-i, remaining(t, rec, "minute"), "request %d: r", i+1)
	}
	rec := serve(h, http.MethodGet, "/v1/ping")
	assert.Equal(t, "minute", refusedPolicy(t, problem.EnvelopeProblem, rec), "refused policy")
	ra := retryAfter(t, rec)
	assert.InDelta(t, 60, ra, 1, "Retry-After = %d, want about 60", ra)
	assert.Equal(t, `"minute";q=3;w=180`, rec.Header().Get(ratelimit.HeaderRateLimitPolicy), "RateLimit-Policy")
	assert.Equal(t, "minute", lim.DefaultPolicy().Name, "DefaultPolicy().Name")
	require.NoError(t, lim.Close(), "Close() = non-nil")
	require.NoError(t, lim.Close(), "second Close() = non-nil")
}

func TestLimiterPolicies(t *testing.T) {
	tests := []struct {
		name       string
		cfg        ratelimit.Config
		wantPolicy string
		wantBurst  int
	}{
		{"production", ratelimit.Config{Environment: ratelimit.EnvProduction}, `"production";q=25;w=1`, 25},
		{"sandbox", ratelimit.Config{Environment: ratelimit.EnvSandbox}, `"sandbox";q=10;w=1`, 10},
		{"Policy override", ratelimit.Config{Environment: ratelimit.EnvProduction, Policy: ratelimit.Policy{Name: "custom", Rate: 1, Burst: 3}}, `"custom";q=3;w=3`, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Store = newSteppedStore(t)
			lim := newLimiter(t, tt.cfg)
			h := chiStack(problem.EnvelopeFlat, lim, nil)
			for i := 0; i < tt.wantBurst; i++ {
				rec := serve(h, http.MethodGet, "/v1/ping")
				require.Equal(t, http.StatusOK, rec.Code, "request %d: status = %d, want 200", i+1, rec.Code)
				got := rec.Header().Get(ratelimit.HeaderRateLimitPolicy)
				require.Equal(t, tt.wantPolicy, got, "request %d: RateLimit-Policy = %q, want %q", i+1, got, tt.wantPolicy)
			}
			rec := serve(h, http.MethodGet, "/v1/ping")
			assert.Equal(t, http.StatusTooManyRequests, rec.Code, "request %d: status = %d, want 429", tt.wantBurst+1, rec.Code)
		})
	}
}

func TestLimiterLegacyHeaders(t *testing.T) {
	store := newSteppedStore(t)
	lim := newLimiter(t, ratelimit.Config{Store: store, LegacyHeaders: true})
	h := chiStack(problem.EnvelopeFlat, lim, func(r chi.Router) {
		r.With(lim.Route("reports", ratelimit.Policy{Rate: 0.5, Burst: 2})).Get("/v1/reports", okHandler)
	})
	tests := []struct {
		path                      string
		wantCode                  int
		wantLimit, wantRem, wantT string
	}{
		{"/v1/ping", 200, "10", "9", "1"},
		{"/v1/ping", 200, "10", "8", "1"},
		// reports has the fewest tokens left: 1, full again in 2s.
		{"/v1/reports", 200, "2", "1", "2"},
		{"/v1/reports", 200, "2", "0", "4"},
		{"/v1/reports", 429, "2", "0", "4"},
	}
	for i, tt := range tests {
		rec := serve(h, http.MethodGet, tt.path)
		require.Equal(t, tt.wantCode, rec.Code, "request %d (%s): status = %d, want %d", i+1, tt.path, rec.Code, tt.wantCode)
		hd := rec.Header()
		assert.Equal(t, tt.wantLimit, hd.Get(ratelimit.HeaderXRateLimitLimit), "request %d: X-RateLimit-Limit", i+1)
		assert.Equal(t, tt.wantRem, hd.Get(ratelimit.HeaderXRateLimitRemaining), "request %d: X-RateLimit-Remaining", i+1)
		assert.Equal(t, tt.wantT, hd.Get(ratelimit.HeaderXRateLimitReset), "request %d: X-RateLimit-Reset", i+1)
	}
	// Without LegacyHeaders, none of them.
	plain := chiStack(problem.EnvelopeFlat, newLimiter(t, ratelimit.Config{Store: newSteppedStore(t)}), nil)
	rec := serve(plain, http.MethodGet, "/v1/ping")
	for _, k := range []string{ratelimit.HeaderXRateLimitLimit, ratelimit.HeaderXRateLimitRemaining, ratelimit.HeaderXRateLimitReset} {
		assert.Empty(t, rec.Header().Values(k), "%s = %q without LegacyHeaders, want none", k, rec.Header().Values(k))
	}
}

// reportsPolicy is the route policy of the per-route tests.
var reportsPolicy = ratelimit.Policy{Rate: 2, Burst: 2}

func TestLimiterRoute(t *testing.T) {
	layouts := []struct {
		name   string
		path   string
		routes func(lim *ratelimit.Limiter) func(r chi.Router)
	}{
		{"With", "/v1/reports", func(lim *ratelimit.Limiter) func(r chi.Router) {
			return func(r chi.Router) {
				r.With(lim.Route("reports", reportsPolicy)).Get("/v1/reports", okHandler)
			}
		}},
		{"mounted subrouter", "/v1/reports", func(lim *ratelimit.Limiter) func(r chi.Router) {
			return func(r chi.Router) {
				r.Route("/v1", func(r chi.Router) {
					r.With(lim.Route("reports", reportsPolicy)).Get("/reports", okHandler)
				})
			}
		}},
		{"Use in a group", "/v1/reports/42", func(lim *ratelimit.Limiter) func(r chi.Router) {
			return func(r chi.Router) {
				r.Group(func(r chi.Router) {
					r.Use(lim.Route("reports", reportsPolicy))
					r.Get("/v1/reports/{id}", okHandler)
				})
			}
		}},
		{"Mount", "/v1/reports", func(lim *ratelimit.Limiter) func(r chi.Router) {
			return func(r chi.Router) {
				sub := chi.NewRouter()
				sub.With(lim.Route("reports", reportsPolicy)).Get("/reports", okHandler)
				r.Mount("/v1", sub)
			}
		}},
	}
	for _, env := range allEnvelopes {
		for _, lay := range layouts {
			t.Run(env+"/"+lay.name, func(t *testing.T) {
				lim := newLimiter(t, ratelimit.Config{Store: newSteppedStore(t)})
				h := chiStack(env, lim, lay.routes(lim))
				for i := 0; i < 2; i++ {
					rec := serve(h, http.MethodGet, lay.path)
					require.Equal(t, http.StatusOK, rec.Code, "request %d: status = %d, want 200", i+1, rec.Code)
					pol := rec.Header().Values(ratelimit.HeaderRateLimitPolicy)
					assert.Equal(t, []string{`"sandbox";q=10;w=1, "reports";q=2;w=1`}, pol, "request %d: RateLimit-Policy", i+1)
					want := `"sandbox";r=` + strconv.Itoa(9-i) + `;t=1, "reports";r=` + strconv.Itoa(1-i) + `;t=1`
					assert.Equal(t, []string{want}, rec.Header().Values(ratelimit.HeaderRateLimit), "request %d: RateLimit", i+1)
				}
				for i := 0; i < 3; i++ {
					rec := serve(h, http.MethodGet, lay.path)
					assert.Equal(t, "reports", refusedPolicy(t, env, rec), "refusal %d: policy", i+1)
					assert.Equal(t, 8, remaining(t, rec, "sandbox"), "refusal %d: sandbox r = %d, want 8 (unchanged since the 2nd 200)", i+1, remaining(t, rec, "sandbox"))
					assert.Equal(t, 0, remaining(t, rec, "reports"), "refusal %d: reports r", i+1)
					assert.Equal(t, `"sandbox";q=10;w=1, "reports";q=2;w=1`, rec.Header().Get(ratelimit.HeaderRateLimitPolicy), "refusal %d: RateLimit-Policy", i+1)
					ra := retryAfter(t, rec)
					assert.Equal(t, 1, ra, "refusal %d: Retry-After = %d, want 1 (ceil of 500ms)", i+1, ra)
				}
				// The refusals used no sandbox token.
				rec := serve(h, http.MethodGet, "/v1/ping")
				require.Equal(t, http.StatusOK, rec.Code, "ping status = %d, want 200", rec.Code)
				assert.Equal(t, `"sandbox";q=10;w=1`, rec.Header().Get(ratelimit.HeaderRateLimitPolicy), "ping RateLimit-Policy")
				assert.Equal(t, 7, remaining(t, rec, "sandbox"), "ping: sandbox r = %d, want 7", remaining(t, rec, "sandbox"))
			})
		}
	}
}

// TestLimiterRouteWithoutHandler: the first Route decides the default
// policy and every Route policy of the endpoint together.
func TestLimiterRouteWithoutHandler(t *testing.T) {
	lim := newLimiter(t, ratelimit.Config{Store: newSteppedStore(t)})
	r := chi.NewRouter()
	r.Use(middleware.RequestID, middleware.Recover(renderer(problem.EnvelopeGoogle)))
	r.Get("/v1/ping", okHandler)
	r.With(lim.Route("reports", reportsPolicy)).Get("/v1/reports", okHandler)

	rec := serve(r, http.MethodGet, "/v1/ping")
	assert.Empty(t, rec.Header().Values(ratelimit.HeaderRateLimit), "ping without Handler: RateLimit = %q, want none", rec.Header().Values(ratelimit.HeaderRateLimit))
	for i := 0; i < 2; i++ {
		rec = serve(r, http.MethodGet, "/v1/reports")
		require.Equal(t, http.StatusOK, rec.Code, "request %d: status = %d, want 200", i+1, rec.Code)
		assert.Equal(t, `"sandbox";q=10;w=1, "reports";q=2;w=1`, rec.Header().Get(ratelimit.HeaderRateLimitPolicy), "request %d: RateLimit-Policy", i+1)
		assert.Equal(t, 9-i, remaining(t, rec, "sandbox"), "request %d: sandbox r", i+1)
	}
	for i := 0; i < 2; i++ {
		rec = serve(r, http.MethodGet, "/v1/reports")
		assert.Equal(t, "reports", refusedPolicy(t, problem.EnvelopeGoogle, rec), "refusal %d: policy", i+1)
		assert.Equal(t, 8, remaining(t, rec, "sandbox"), "refusal %d: sandbox r = %d, want 8 (no token used)", i+1, remaining(t, rec, "sandbox"))
	}
}

// TestLimiterRouteChained: two Route middlewares on one endpoint are
// decided with the default policy in one decision.
func TestLimiterRouteChained(t *testing.T) {
	export := ratelimit.Policy{Rate: 1, Burst: 1}
	for _, withHandler := range []bool{true, false} {
		t.Run("Handler="+strconv.FormatBool(withHandler), func(t *testing.T) {
			lim := newLimiter(t, ratelimit.Config{Store: newSteppedStore(t)})
			r := chi.NewRouter()
			r.Use(middleware.RequestID, middleware.Recover(renderer(problem.EnvelopeTracked)))
			if withHandler {
				r.Use(lim.Handler)
			}
			r.With(lim.Route("reports", reportsPolicy), lim.Route("export", export)).Get("/v1/export", okHandler)

			rec := serve(r, http.MethodGet, "/v1/export")
			require.Equal(t, http.StatusOK, rec.Code, "first request: status = %d, want 200", rec.Code)
			assert.Equal(t, `"sandbox";q=10;w=1, "reports";q=2;w=1, "export";q=1;w=1`, rec.Header().Get(ratelimit.HeaderRateLimitPolicy), "RateLimit-Policy")
			assert.Equal(t, `"sandbox";r=9;t=1, "reports";r=1;t=1, "export";r=0;t=1`, rec.Header().Get(ratelimit.HeaderRateLimit), "RateLimit")

			rec = serve(r, http.MethodGet, "/v1/export")
			assert.Equal(t, "export", refusedPolicy(t, problem.EnvelopeTracked, rec), "second request: refused policy")
			assert.Equal(t, `"sandbox";r=9;t=1, "reports";r=1;t=1, "export";r=0;t=1`, rec.Header().Get(ratelimit.HeaderRateLimit),
				"second request: RateLimit, want nothing taken by the refusal")
		})
	}
}

// TestLimiterServeMux: under Handler with a router other than chi, the
// Route policies are decided after the default one, so a request the route
// refuses gets its default token back, as under chi.
func TestLimiterServeMux(t *testing.T) {
	lim := newLimiter(t, ratelimit.Config{Store: newSteppedStore(t)})
	mux := http.NewServeMux()
	mux.Handle("/v1/ping", okHandler)
	mux.Handle("/v1/reports", lim.Route("reports", reportsPolicy)(okHandler))
	h := middleware.RequestID(middleware.Recover(renderer(problem.EnvelopeProblem))(lim.Handler(mux)))

	for i := 0; i < 2; i++ {
		rec := serve(h, http.MethodGet, "/v1/reports")
		require.Equal(t, http.StatusOK, rec.Code, "request %d: status = %d, want 200", i+1, rec.Code)
		assert.Equal(t, []string{`"sandbox";q=10;w=1, "reports";q=2;w=1`}, rec.Header().Values(ratelimit.HeaderRateLimitPolicy), "request %d: RateLimit-Policy", i+1)
		want := `"sandbox";r=` + strconv.Itoa(9-i) + `;t=1, "reports";r=` + strconv.Itoa(1-i) + `;t=1`
		assert.Equal(t, []string{want}, rec.Header().Values(ratelimit.HeaderRateLimit), "request %d: RateLimit", i+1)
	}
	for i := 0; i < 2; i++ {
		rec := serve(h, http.MethodGet, "/v1/reports")
		assert.Equal(t, "reports", refusedPolicy(t, problem.EnvelopeProblem, rec), "refusal %d: policy", i+1)
		assert.Equal(t, `"sandbox";q=10;w=1, "reports";q=2;w=1`, rec.Header().Get(ratelimit.HeaderRateLimitPolicy), "refusal %d: RateLimit-Policy", i+1)
		// The default policy was decided first, and its token given back.
		assert.Equal(t, `"sandbox";r=8;t=1, "reports";r=0;t=1`, rec.Header().Get(ratelimit.HeaderRateLimit), "refusal %d: RateLimit", i+1)
	}
	rec := serve(h, http.MethodGet, "/v1/ping")
	require.Equal(t, http.StatusOK, rec.Code, "ping: status = %d, want 200", rec.Code)
	assert.Equal(t, 7, remaining(t, rec, "sandbox"), "ping: sandbox r = %d, want 7 (the two refusals used no sandbox token)", remaining(t, rec, "sandbox"))

	// Two chained Routes are decided together, after the default policy.
	mux.Handle("/v1/export", lim.Route("reports", reportsPolicy)(lim.Route("export", ratelimit.Policy{Rate: 1, Burst: 1})(okHandler)))
	rec = serve(h, http.MethodGet, "/v1/export", fromAddr("192.0.2.9:1"))
	require.Equal(t, http.StatusOK, rec.Code, "export: status = %d, want 200", rec.Code)
	assert.Equal(t, `"sandbox";q=10;w=1, "reports";q=2;w=1, "export";q=1;w=1`, rec.Header().Get(ratelimit.HeaderRateLimitPolicy), "export: RateLimit-Policy")
	assert.Equal(t, `"sandbox";r=9;t=1, "reports";r=1;t=1, "export";r=0;t=1`, rec.Header().Get(ratelimit.HeaderRateLimit), "export: RateLimit")
	rec = serve(h, http.MethodGet, "/v1/export", fromAddr("192.0.2.9:1"))
	assert.Equal(t, "export", refusedPolicy(t, problem.EnvelopeProblem, rec), "second export: refused policy")
	assert.Equal(t, `"sandbox";r=9;t=1, "reports";r=1;t=1, "export";r=0;t=1`, rec.Header().Get(ratelimit.HeaderRateLimit), "second export: RateLimit")
}

// TestLimiterRouteNotInIndex covers Route policies that Handler's chi index
// cannot see before routing: a Route wrapping the handler itself, and a
// path that StripSlashes rewrites. They must still be enforced.
func TestLimiterRouteNotInIndex(t *testing.T) {
	tests := []struct {
		name   string
		path   string
		routes func(lim *ratelimit.Limiter) *chi.Mux
	}{
		{"Route wrapping the handler", "/v1/reports", func(lim *ratelimit.Limiter) *chi.Mux {
			return chiStack(problem.EnvelopeFlat, lim, func(r chi.Router) {
				r.Handle("/v1/reports", lim.Route("reports", reportsPolicy)(okHandler))
			})
		}},
		{"Route wrapping the handler of a route with another", "/v1/reports", func(lim *ratelimit.Limiter) *chi.Mux {
			return chiStack(problem.EnvelopeFlat, lim, func(r chi.Router) {
				r.With(lim.Route("outer", ratelimit.Policy{Rate: 1, Burst: 100})).
					Handle("/v1/reports", lim.Route("reports", reportsPolicy)(okHandler))
			})
		}},
		{"StripSlashes", "/v1/reports/", func(lim *ratelimit.Limiter) *chi.Mux {
			r := chi.NewRouter()
			r.Use(middleware.RequestID, middleware.Recover(renderer(problem.EnvelopeFlat)), chimw.StripSlashes, lim.Handler)
			r.With(lim.Route("reports", reportsPolicy)).Get("/v1/reports", okHandler)
			return r
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lim := newLimiter(t, ratelimit.Config{Store: newSteppedStore(t)})
			h := tt.routes(lim)
			for i := 0; i < 2; i++ {
				rec := serve(h, http.MethodGet, tt.path)
				require.Equal(t, http.StatusOK, rec.Code, "request %d: status = %d, want 200", i+1, rec.Code)
				assert.Equal(t, 1-i, remaining(t, rec, "reports"), "request %d: reports r", i+1)
				assert.Equal(t, 9-i, remaining(t, rec, "sandbox"), "request %d: sandbox r", i+1)
			}
			rec := serve(h, http.MethodGet, tt.path)
			assert.Equal(t, "reports", refusedPolicy(t, problem.EnvelopeFlat, rec), "third request: refused policy")
		})
	}
}

// keyedStack is a chi stack with KeyAuth in front of the limiter for the
// sandbox key pairs alice, carol and bob (bob on the gold plan), and dave
// in production.
func keyedStack(t *testing.T, lim *ratelimit.Limiter) http.Handler {
	keys, err := middleware.NewStaticKeys(
		middleware.KeyPair{Key: "alice", Secret: "alice-secret", Environment: "sandbox"},
		middleware.KeyPair{Key: "carol", Secret: "carol-secret", Environment: "sandbox"},
		middleware.KeyPair{Key: "bob", Secret: "bob-secret", Environment: "sandbox", Plan: "gold"},
		middleware.KeyPair{Key: "dave", Secret: "dave-secret", Environment: "production"},
	)
	require.NoError(t, err, "NewStaticKeys() error = %v", err)
	r := chi.NewRouter()
	r.Use(middleware.RequestID, middleware.Recover(renderer(problem.EnvelopeProblem)), middleware.KeyAuth(keys), lim.Handler)
	r.Get("/v1/ping", okHandler)
	r.With(lim.Route("reports", reportsPolicy)).Get("/v1/reports", okHandler)
	return r
}

func TestLimiterPrincipalKeys(t *testing.T) {
	gold := ratelimit.Policy{Rate: 50, Burst: 50} // named by its plan
	lim := newLimiter(t, ratelimit.Config{Store: newSteppedStore(t), Plans: map[string]ratelimit.Policy{"gold": gold}})
	h := keyedStack(t, lim)

	// alice and carol share an IP but not a bucket.
	for i := 0; i < 10; i++ {
		rec := serve(h, http.MethodGet, "/v1/ping", basicAuth("alice", "alice-secret"))
		require.Equal(t, http.StatusOK, rec.Code, "alice request %d: status = %d, want 200", i+1, rec.Code)
	}
	rec := serve(h, http.MethodGet, "/v1/ping", basicAuth("alice", "alice-secret"))
	assert.Equal(t, "sandbox", refusedPolicy(t, problem.EnvelopeProblem, rec), "alice's 11th request: refused policy")
	rec = serve(h, http.MethodGet, "/v1/ping", basicAuth("carol", "carol-secret"))
	require.Equal(t, http.StatusOK, rec.Code, "carol: status = %d, want 200 (a bucket of her own)", rec.Code)
	assert.Equal(t, 9, remaining(t, rec, "sandbox"), "carol: sandbox r")

	// dave's production environment picks the production preset.
	rec = serve(h, http.MethodGet, "/v1/ping", basicAuth("dave", "dave-secret"))
	require.Equal(t, http.StatusOK, rec.Code, "dave: status = %d, want 200", rec.Code)
	assert.Equal(t, `"production";q=25;w=1`, rec.Header().Get(ratelimit.HeaderRateLimitPolicy), "dave: RateLimit-Policy")
	assert.Equal(t, 24, remaining(t, rec, "production"), "dave: production r")

	// bob's plan replaces his environment's policy.
	rec = serve(h, http.MethodGet, "/v1/ping", basicAuth("bob", "bob-secret"))
	require.Equal(t, http.StatusOK, rec.Code, "bob: status = %d, want 200", rec.Code)
	assert.Equal(t, `"gold";q=50;w=1`, rec.Header().Get(ratelimit.HeaderRateLimitPolicy), "bob: RateLimit-Policy")
	assert.Equal(t, `"gold";r=49;t=1`, rec.Header().Get(ratelimit.HeaderRateLimit), "bob: RateLimit")
	rec = serve(h, http.MethodGet, "/v1/reports", basicAuth("bob", "bob-secret"))
	require.Equal(t, http.StatusOK, rec.Code, "bob reports: status = %d, want 200", rec.Code)
	assert.Equal(t, `"gold";q=50;w=1, "reports";q=2;w=1`, rec.Header().Get(ratelimit.HeaderRateLimitPolicy), "bob reports: RateLimit-Policy")
	assert.Equal(t, `"gold";r=48;t=1, "reports";r=1;t=1`, rec.Header().Get(ratelimit.HeaderRateLimit), "bob reports: RateLimit")
	rec = serve(h, http.MethodGet, "/v1/reports", basicAuth("bob", "bob-secret"))
	require.Equal(t, http.StatusOK, rec.Code, "bob reports: status = %d, want 200", rec.Code)
	rec = serve(h, http.MethodGet, "/v1/reports", basicAuth("bob", "bob-secret"))
	assert.Equal(t, "reports", refusedPolicy(t, problem.EnvelopeProblem, rec), "bob's third report: refused policy")
	assert.Equal(t, 47, remaining(t, rec, "gold"), "bob's refused report: gold r = %d, want 47 (no token used)", remaining(t, rec, "gold"))
}

func TestLimiterClientIPKeys(t *testing.T) {
	tests := []struct {
		name      string
		mw        []func(http.Handler) http.Handler
		first     []func(*http.Request)
		second    []func(*http.Request)
		wantSame  bool
		wantAfter int // sandbox r of the second request
	}{
		{"RemoteAddr fallback: same host, another port", nil,
			[]func(*http.Request){fromAddr("192.0.2.1:1000")}, []func(*http.Request){fromAddr("192.0.2.1:2000")}, true, 8},
		{"RemoteAddr fallback: no port", nil,
			[]func(*http.Request){fromAddr("192.0.2.1:1000")}, []func(*http.Request){fromAddr("192.0.2.1")}, true, 8},
		{"RemoteAddr fallback: another host", nil,
			[]func(*http.Request){fromAddr("192.0.2.1:1000")}, []func(*http.Request){fromAddr("192.0.2.2:1000")}, false, 9},
		{"RemoteAddr fallback: v4-mapped v6 is another key", nil,
			[]func(*http.Request){fromAddr("192.0.2.1:1000")}, []func(*http.Request){fromAddr("[::ffff:192.0.2.1]:1000")}, false, 9},
		{"ClientIPFromRemoteAddr folds v4-mapped v6", []func(http.Handler) http.Handler{chimw.ClientIPFromRemoteAddr},
			[]func(*http.Request){fromAddr("192.0.2.1:1000")}, []func(*http.Request){fromAddr("[::ffff:192.0.2.1]:1000")}, true, 8},
		{"X-Forwarded-For is not read", nil,
			[]func(*http.Request){fromAddr("192.0.2.1:1000"), withHeader("X-Forwarded-For", "203.0.113.1")},
			[]func(*http.Request){fromAddr("192.0.2.1:1000"), withHeader("X-Forwarded-For", "203.0.113.2")}, true, 8},
		{"X-Forwarded-For under ClientIPFromRemoteAddr is not read", []func(http.Handler) http.Handler{chimw.ClientIPFromRemoteAddr},
			[]func(*http.Request){fromAddr("192.0.2.1:1000"), withHeader("X-Forwarded-For", "203.0.113.1")},
			[]func(*http.Request){fromAddr("192.0.2.1:1000"), withHeader("X-Forwarded-For", "203.0.113.2")}, true, 8},
		{"X-Forwarded-For from a trusted proxy under ClientIPFromXFF", []func(http.Handler) http.Handler{chimw.ClientIPFromXFF("192.0.2.0/24")},
			[]func(*http.Request){fromAddr("192.0.2.1:1000"), withHeader("X-Forwarded-For", "203.0.113.1")},
			[]func(*http.Request){fromAddr("192.0.2.1:1000"), withHeader("X-Forwarded-For", "203.0.113.2")}, false, 9},
		{"X-Forwarded-For from an untrusted peer under ClientIPFromXFF", []func(http.Handler) http.Handler{chimw.ClientIPFromXFF("10.0.0.0/8")},
			[]func(*http.Request){fromAddr("192.0.2.1:1000"), withHeader("X-Forwarded-For", "203.0.113.1")},
			[]func(*http.Request){fromAddr("192.0.2.1:1000"), withHeader("X-Forwarded-For", "203.0.113.2")}, true, 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lim := newLimiter(t, ratelimit.Config{Store: newSteppedStore(t)})
			r := chi.NewRouter()
			r.Use(middleware.RequestID, middleware.Recover(renderer(problem.EnvelopeFlat)))
			r.Use(tt.mw...)
			r.Use(lim.Handler)
			r.Get("/v1/ping", okHandler)
			rec := serve(r, http.MethodGet, "/v1/ping", tt.first...)
			require.Equal(t, 9, remaining(t, rec, "sandbox"), "first request: sandbox r")
			rec = serve(r, http.MethodGet, "/v1/ping", tt.second...)
			assert.Equal(t, tt.wantAfter, remaining(t, rec, "sandbox"), "second request: sandbox r = %d, want %d (same bucket: %v)", remaining(t, rec, "sandbox"), tt.wantAfter, tt.wantSame)
		})
	}
}

func TestLimiterXForwardedForSpoofing(t *testing.T) {
	lim := newLimiter(t, ratelimit.Config{Store: newSteppedStore(t)})
	h := chiStack(problem.EnvelopeFlat, lim, nil)
	for i := 0; i < 10; i++ {
		rec := serve(h, http.MethodGet, "/v1/ping", withHeader("X-Forwarded-For", "198.51.100."+strconv.Itoa(i)))
		require.Equal(t, http.StatusOK, rec.Code, "request %d: status = %d, want 200", i+1, rec.Code)
	}
	rec := serve(h, http.MethodGet, "/v1/ping", withHeader("X-Forwarded-For", "198.51.100.200"), withHeader("X-Real-Ip", "198.51.100.201"))
	assert.Equal(t, http.StatusTooManyRequests, rec.Code, "11th request with a new X-Forwarded-For: status = %d, want 429", rec.Code)
}

func TestLimiterCustomKey(t *testing.T) {
	lim := newLimiter(t, ratelimit.Config{Store: newSteppedStore(t), Key: func(r *http.Request) string { return r.Header.Get("X-Tenant") }})
	h := chiStack(problem.EnvelopeFlat, lim, nil)
	rec := serve(h, http.MethodGet, "/v1/ping", withHeader("X-Tenant", "a"), fromAddr("192.0.2.1:1"))
	assert.Equal(t, 9, remaining(t, rec, "sandbox"), "tenant a: sandbox r")
	rec = serve(h, http.MethodGet, "/v1/ping", withHeader("X-Tenant", "a"), fromAddr("192.0.2.2:1"))
	assert.Equal(t, 8, remaining(t, rec, "sandbox"), "tenant a from another IP: sandbox r")
	rec = serve(h, http.MethodGet, "/v1/ping", withHeader("X-Tenant", "b"), fromAddr("192.0.2.1:1"))
	assert.Equal(t, 9, remaining(t, rec, "sandbox"), "tenant b: sandbox r")
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

var errStoreDown = errors.New("redis: connection refused")

func TestLimiterOutage(t *testing.T) {
	t.Run("FailOpen", func(t *testing.T) {
		logs := &recordingHandler{}
		// BreakerFailures 100: every request asks the store and fails.
		lim := newLimiter(t, ratelimit.Config{Store: failingStore{errStoreDown}, Outage: ratelimit.FailOpen, BreakerFailures: 100, Logger: slog.New(logs)})
		h := chiStack(problem.EnvelopeProblem, lim, nil)
		for i := 0; i < 20; i++ {
			rec := serve(h, http.MethodGet, "/v1/ping")
			require.Equal(t, http.StatusOK, rec.Code, "request %d: status = %d, want 200 (fail open)", i+1, rec.Code)
			// Nothing was decided or enforced: nothing is advertised.
			assert.Empty(t, rec.Header().Values(ratelimit.HeaderRateLimitPolicy), "request %d: RateLimit-Policy = %q, want none", i+1, rec.Header().Values(ratelimit.HeaderRateLimitPolicy))
			assert.Empty(t, rec.Header().Values(ratelimit.HeaderRateLimit), "request %d: RateLimit = %q, want none without a decision", i+1, rec.Header().Values(ratelimit.HeaderRateLimit))
		}
		recs := logs.records()
		require.Len(t, recs, 1, "log records = %d, want 1 (at most one per second)", len(recs))
		assert.Equal(t, slog.LevelWarn, recs[0].Level, "log level")
		a := attrs(recs[0])
		assert.Equal(t, "fail-open", a["outage"], "outage attr")
		assert.Equal(t, errStoreDown.Error(), a["error"], "error attr")
	})

	t.Run("FailClosed", func(t *testing.T) {
		tests := []struct {
			name       string
			retryAfter time.Duration
			want       string
		}{
			{"default Retry-After", 0, "1"},
			{"OutageRetryAfter 2.5s", 2500 * time.Millisecond, "3"},
			{"OutageRetryAfter 30s", 30 * time.Second, "30"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				lim := newLimiter(t, ratelimit.Config{Store: failingStore{errStoreDown}, Outage: ratelimit.FailClosed, OutageRetryAfter: tt.retryAfter})
				for _, env := range allEnvelopes {
					rec := serve(chiStack(env, lim, nil), http.MethodGet, "/v1/ping")
					require.Equal(t, http.StatusServiceUnavailable, rec.Code, "%s: status = %d, want 503", env, rec.Code)
					assert.Equal(t, tt.want, rec.Header().Get(ratelimit.HeaderRetryAfter), "%s: Retry-After", env)
					assert.NotContains(t, rec.Body.String(), errStoreDown.Error(), "%s: the body leaks the store error", env)
					if env == problem.EnvelopeProblem {
						var body map[string]any
						require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), "503 body %q", rec.Body)
						assert.Equal(t, "UNAVAILABLE", body["code"], "503 code = %v, want UNAVAILABLE", body["code"])
					}
				}
			})
		}
	})

	t.Run("FallBack", func(t *testing.T) {
		// Sandbox at half share: burst 5.
		lim := newLimiter(t, ratelimit.Config{Store: failingStore{errStoreDown}, Outage: ratelimit.FallBack})
		h := chiStack(problem.EnvelopeProblem, lim, nil)
		rec := serve(h, http.MethodGet, "/v1/ping")
		require.Equal(t, http.StatusOK, rec.Code, "status = %d, want 200", rec.Code)
		assert.Equal(t, 4, remaining(t, rec, "sandbox"), "sandbox r under FallBack, want 4 (burst 10 * 0.5 - 1)")

		// A policy that cannot refill during the test: exactly the scaled
		// burst is admitted.
		tests := []struct {
			share float64
			burst int
			want  int
		}{
			{0, 10, 5}, // 0 means 0.5
			{0.5, 10, 5},
			{0.25, 10, 2},
			{1, 10, 10},
			{0.01, 10, 1}, // never below 1
		}
		for _, tt := range tests {
			t.Run("share="+strconv.FormatFloat(tt.share, 'g', -1, 64), func(t *testing.T) {
				slow := ratelimit.Policy{Name: "slow", Rate: rate.Every(time.Hour), Burst: tt.burst}
				lim := newLimiter(t, ratelimit.Config{Store: failingStore{errStoreDown}, Outage: ratelimit.FallBack, FallbackShare: tt.share, Policy: slow})
				h := chiStack(problem.EnvelopeProblem, lim, nil)
				for i := 0; i < tt.want; i++ {
					rec := serve(h, http.MethodGet, "/v1/ping")
					require.Equal(t, http.StatusOK, rec.Code, "request %d: status = %d, want 200", i+1, rec.Code)
				}
				rec := serve(h, http.MethodGet, "/v1/ping")
				assert.Equal(t, "slow", refusedPolicy(t, problem.EnvelopeProblem, rec), "request %d: refused policy", tt.want+1)
			})
		}
	})
}

// TestLimiterOutageLogOncePerSecond fails every decision from many
// goroutines at once: the store error is logged at most once a second.
func TestLimiterOutageLogOncePerSecond(t *testing.T) {
	logs := &recordingHandler{}
	lim := newLimiter(t, ratelimit.Config{Store: failingStore{errStoreDown}, Outage: ratelimit.FailOpen, BreakerFailures: 1 << 20, Logger: slog.New(logs)})
	h := chiStack(problem.EnvelopeProblem, lim, nil)
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				serve(h, http.MethodGet, "/v1/ping")
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	max := 1 + int(elapsed/time.Second)
	got := len(logs.records())
	assert.GreaterOrEqual(t, got, 1, "log records = %d, want >= 1", got)
	assert.LessOrEqual(t, got, max, "log records = %d in %v, want <= %d", got, elapsed, max)
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name    string
		cfg     ratelimit.Config
		wantIs  error
		wantMsg string
	}{
		{"unknown environment", ratelimit.Config{Environment: "staging"}, ratelimit.ErrUnknownEnvironment, "staging"},
		{"invalid policy", ratelimit.Config{Policy: ratelimit.Policy{Name: "p", Rate: 1}}, ratelimit.ErrInvalidPolicy, "burst"},
		{"negative FallbackShare", ratelimit.Config{Outage: ratelimit.FallBack, FallbackShare: -0.5}, nil, "FallbackShare"},
		{"FallbackShare above 1", ratelimit.Config{Outage: ratelimit.FallBack, FallbackShare: 1.5}, nil, "FallbackShare"},
		{"NaN FallbackShare", ratelimit.Config{Outage: ratelimit.FallBack, FallbackShare: math.NaN()}, nil, "FallbackShare"},
		{"infinite FallbackShare", ratelimit.Config{FallbackShare: math.Inf(1)}, nil, "FallbackShare"},
		{"unknown Outage", ratelimit.Config{Outage: ratelimit.Outage(7)}, nil, "Outage"},
		{"negative Outage", ratelimit.Config{Outage: ratelimit.Outage(-1)}, nil, "Outage"},
		{"invalid plan", ratelimit.Config{Plans: map[string]ratelimit.Policy{"gold": {Rate: 1}}}, ratelimit.ErrInvalidPolicy, `Config.Plans["gold"]`},
		{"invalid plan name", ratelimit.Config{Plans: map[string]ratelimit.Policy{"gold plan": {Rate: 1, Burst: 1}}}, ratelimit.ErrInvalidPolicy, `gold plan`},
		{"invalid environment policy", ratelimit.Config{Environments: map[string]ratelimit.Policy{"sandbox": {Rate: -1, Burst: 1}}}, ratelimit.ErrInvalidPolicy, `Config.Environments["sandbox"]`},
		{"negative BreakerFailures", ratelimit.Config{BreakerFailures: -1}, ratelimit.ErrInvalidConfig, "BreakerFailures"},
		{"negative BreakerProbe", ratelimit.Config{BreakerProbe: -time.Second}, ratelimit.ErrInvalidConfig, "BreakerProbe"},
		{"negative OutageRetryAfter", ratelimit.Config{OutageRetryAfter: -time.Second}, ratelimit.ErrInvalidConfig, "OutageRetryAfter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lim, err := ratelimit.New(tt.cfg)
			require.Error(t, err, "New(%+v) = %v, nil, want an error", tt.cfg, lim)
			assert.Nil(t, lim, "New(%+v) limiter = %v, want nil with an error", tt.cfg, lim)
			if tt.wantIs != nil {
				assert.True(t, errors.Is(err, tt.wantIs), "New(%+v) error = %v, want %v", tt.cfg, err, tt.wantIs)
			}
			assert.Contains(t, err.Error(), tt.wantMsg, "New(%+v) error = %q, want it to name %q", tt.cfg, err, tt.wantMsg)
			assert.True(t, strings.HasPrefix(err.Error(), "ratelimit: "), "New(%+v) error = %q, want a \"ratelimit: \" prefix", tt.cfg, err)
			assert.Panics(t, func() { ratelimit.MustNew(tt.cfg) }, "MustNew(%+v) did not panic", tt.cfg)
		})
	}
	t.Run("valid", func(t *testing.T) {
		lim := ratelimit.MustNew(ratelimit.Config{Outage: ratelimit.FallBack, FallbackShare: 1})
		assert.NoError(t, lim.Close(), "Close() error")
		assert.NoError(t, lim.Close(), "second Close() error")
	})
}

func TestOutageString(t *testing.T) {
	tests := []struct {
		o    ratelimit.Outage
		want string
	}{
		{ratelimit.FailOpen, "fail-open"},
		{ratelimit.FailClosed, "fail-closed"},
		{ratelimit.FallBack, "fall-back"},
		{ratelimit.Outage(9), "Outage(9)"},
	}
	for _, tt := range []struct {
		s    ratelimit.Source
		want string
	}{{ratelimit.SourceStore, "store"}, {ratelimit.SourceFallback, "fallback"}, {ratelimit.SourceNone, "none"}, {ratelimit.Source(7), "Source(7)"}} {
		assert.Equal(t, tt.want, tt.s.String(), "Source(%d).String()", int(tt.s))
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.o.String(), "Outage(%d).String() = %q, want %q", int(tt.o), tt.o.String(), tt.want)
		})
	}
}

func TestRouteInvalidPolicyPanics(t *testing.T) {
	lim := newLimiter(t, ratelimit.Config{Store: newSteppedStore(t)})
	tests := []struct {
		name   string
		policy ratelimit.Policy
		route  string
	}{
		{"bad name", ratelimit.Policy{Rate: 1, Burst: 1}, "has space"},
		{"zero rate", ratelimit.Policy{Burst: 1}, "reports"},
		{"zero burst", ratelimit.Policy{Rate: 1}, "reports"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := ratelimit.Policy{Name: tt.route, Rate: tt.policy.Rate, Burst: tt.policy.Burst}.Validate()
			require.Error(t, want, "Validate(%+v) = nil, want an error", tt.policy)
			_, err := lim.NewRoute(tt.route, tt.policy)
			require.ErrorIs(t, err, ratelimit.ErrInvalidPolicy, "NewRoute(%q, %+v) = %v, want ErrInvalidPolicy", tt.route, tt.policy, err)
			assert.Contains(t, err.Error(), want.Error(), "NewRoute(%q) error = %q, want it to hold %q", tt.route, err, want)
			assert.PanicsWithError(t, err.Error(), func() { lim.Route(tt.route, tt.policy) }, "Route(%q, %+v) did not panic with NewRoute's error", tt.route, tt.policy)
		})
	}
	// The name argument wins over Policy.Name.
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.With(lim.Route("reports", ratelimit.Policy{Name: "ignored", Rate: 1, Burst: 1})).Get("/x", okHandler)
	rec := serve(r, http.MethodGet, "/x")
	assert.Equal(t, `"sandbox";q=10;w=1, "reports";q=1;w=1`, rec.Header().Get(ratelimit.HeaderRateLimitPolicy), "RateLimit-Policy")
}

func TestLimit(t *testing.T) {
	h := ratelimit.Limit(2)(okHandler)
	for i := 0; i < 2; i++ {
		rec := serve(h, http.MethodGet, "/")
		require.Equal(t, http.StatusOK, rec.Code, "request %d: status = %d, want 200", i+1, rec.Code)
		assert.Equal(t, `"default";q=2;w=1`, rec.Header().Get(ratelimit.HeaderRateLimitPolicy), "request %d: RateLimit-Policy", i+1)
	}
	// No renderer in the context: the default (problem) one answers.
	rec := serve(h, http.MethodGet, "/")
	assert.Equal(t, "default", refusedPolicy(t, problem.EnvelopeProblem, rec), "third request: refused policy")
	assert.Equal(t, problem.ContentTypeProblem, rec.Header().Get("Content-Type"), "Content-Type")
}

// authFunc is an Authenticator of the test's own, which (unlike
// StaticKeys) does not validate the policies it hands out.
type authFunc func(ctx context.Context, key, secret string) (*middleware.Principal, error)

func (f authFunc) Authenticate(ctx context.Context, key, secret string) (*middleware.Principal, error) {
	return f(ctx, key, secret)
}
