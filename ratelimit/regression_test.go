package ratelimit_test

import (
	"context"
	"go/parser"
	"go/token"
	"log/slog"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
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

// demoKeys authenticates key pair k:s in the sandbox.
func demoKeys(t testing.TB) func(http.Handler) http.Handler {
	t.Helper()
	keys, err := middleware.NewStaticKeys(middleware.KeyPair{Key: "k", Secret: "s", Environment: "sandbox"})
	require.NoError(t, err, "NewStaticKeys")
	return middleware.KeyAuth(keys)
}

// A refused HEAD, which chi's GetHead serves with the GET route, leaves
// the key pair's bucket as a refused GET does.
func TestLimiterHeadUnderGetHead(t *testing.T) {
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		t.Run(method, func(t *testing.T) {
			lim := newLimiter(t, ratelimit.Config{Store: newSteppedStore(t)})
			r := chi.NewRouter()
			r.Use(middleware.RequestID, middleware.Recover(renderer(problem.EnvelopeFlat)), chimw.GetHead)
			r.Route("/v1", func(r chi.Router) {
				r.Use(demoKeys(t), lim.Handler)
				r.With(lim.Route("reports", reportsPolicy)).Get("/reports", okHandler)
			})
			for i := 0; i < 2; i++ {
				rec := serve(r, method, "/v1/reports", basicAuth("k", "s"))
				require.Equal(t, http.StatusOK, rec.Code, "%s %d: status = %d, want 200", method, i+1, rec.Code)
			}
			for i := 0; i < 4; i++ {
				rec := serve(r, method, "/v1/reports", basicAuth("k", "s"))
				require.Equal(t, http.StatusTooManyRequests, rec.Code, "%s refusal %d: status = %d, want 429", method, i+1, rec.Code)
				assert.Equal(t, 8, remaining(t, rec, "sandbox"), "%s refusal %d: sandbox r = %d, want 8 (refusals take no token)", method, i+1, remaining(t, rec, "sandbox"))
			}
		})
	}
}

// A request refused by a route policy leaves the key pair's bucket exactly
// as it was: checked against the store itself, not only the headers.
func TestLimiterRouteRefusalRefundsExactly(t *testing.T) {
	store := newSteppedStore(t)
	lim := newLimiter(t, ratelimit.Config{Store: store})
	h := chiStack(problem.EnvelopeProblem, lim, func(r chi.Router) {
		r.With(lim.Route("reports", ratelimit.Policy{Rate: 1, Burst: 1})).Get("/v1/reports", okHandler)
	})
	require.Equal(t, http.StatusOK, serve(h, http.MethodGet, "/v1/reports").Code, "first report")
	store.advance(50 * time.Millisecond)
	before := store.mem.AllowAt(store.now, "192.0.2.1", ratelimit.Sandbox()) // takes a token: 9 - 1 + 0.5 refilled
	require.True(t, before.Allowed)
	for i := 0; i < 5; i++ {
		require.Equal(t, http.StatusTooManyRequests, serve(h, http.MethodGet, "/v1/reports").Code, "refusal %d", i+1)
	}
	after := store.mem.AllowAt(store.now, "192.0.2.1", ratelimit.Sandbox())
	assert.Equal(t, before.Remaining-1, after.Remaining, "sandbox after five refusals: r = %d, want %d", after.Remaining, before.Remaining-1)
	assert.Equal(t, before.Reset+100*time.Millisecond, after.Reset, "sandbox after five refusals: Reset = %v, want one token (100ms) more than before", after.Reset)
}

// Two limiters in one chain each decide their own policies, whatever
// faultline middleware ran before them, and both show in the headers.
func TestLimiterTwoLimiters(t *testing.T) {
	outer := ratelimit.Policy{Name: "outer", Rate: 1, Burst: 3}
	inner := ratelimit.Policy{Name: "inner", Rate: 1, Burst: 2}
	stacks := []struct {
		name   string
		before []func(http.Handler) http.Handler
	}{
		{"bare", nil},
		{"after RequestID and Recover", []func(http.Handler) http.Handler{middleware.RequestID, middleware.Recover(renderer(problem.EnvelopeFlat))}},
	}
	for _, st := range stacks {
		t.Run(st.name, func(t *testing.T) {
			l1 := newLimiter(t, ratelimit.Config{Store: newSteppedStore(t), Policy: outer})
			l2 := newLimiter(t, ratelimit.Config{Store: newSteppedStore(t), Policy: inner})
			r := chi.NewRouter()
			r.Use(st.before...)
			r.Use(l1.Handler, l2.Handler)
			r.Get("/x", okHandler)
			for i := 0; i < 2; i++ {
				rec := serve(r, http.MethodGet, "/x")
				require.Equal(t, http.StatusOK, rec.Code, "request %d: status", i+1)
				assert.Equal(t, []string{`"outer";q=3;w=3`, `"inner";q=2;w=2`}, rec.Header().Values(ratelimit.HeaderRateLimitPolicy), "request %d: RateLimit-Policy lines", i+1)
				assert.Equal(t, []string{`"outer";r=` + strconv.Itoa(2-i) + `;t=` + strconv.Itoa(i+1), `"inner";r=` + strconv.Itoa(1-i) + `;t=` + strconv.Itoa(i+1)},
					rec.Header().Values(ratelimit.HeaderRateLimit), "request %d: RateLimit lines", i+1)
			}
			rec := serve(r, http.MethodGet, "/x")
			assert.Equal(t, http.StatusTooManyRequests, rec.Code, "third request: the inner limiter refuses")
		})
	}
}

// Route policies hold on routes added after the router served its first
// request (an index built on the first request could not see them), under
// chi and http.ServeMux alike, and the limiter's code does not reflect.
func TestLimiterRouteAddedAfterFirstRequest(t *testing.T) {
	lim := newLimiter(t, ratelimit.Config{Store: newSteppedStore(t)})
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Get("/v1/ping", okHandler)
	require.Equal(t, http.StatusOK, serve(r, http.MethodGet, "/v1/ping").Code)
	r.With(lim.Route("late", ratelimit.Policy{Rate: 1, Burst: 1})).Get("/v1/late", okHandler)
	require.Equal(t, http.StatusOK, serve(r, http.MethodGet, "/v1/late").Code, "first late request")
	rec := serve(r, http.MethodGet, "/v1/late")
	assert.Equal(t, http.StatusTooManyRequests, rec.Code, "second late request: status = %d, want 429", rec.Code)
	assert.Equal(t, 8, remaining(t, rec, "sandbox"), "refused late request: sandbox r = %d, want 8 (its token given back)", remaining(t, rec, "sandbox"))
}

func TestLimiterCodeDoesNotReflect(t *testing.T) {
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		require.NoError(t, err)
		ast, err := parser.ParseFile(token.NewFileSet(), f, src, parser.ImportsOnly)
		require.NoError(t, err, "parse %s", f)
		for _, imp := range ast.Imports {
			assert.NotEqual(t, `"reflect"`, imp.Path.Value, "%s imports reflect", f)
			assert.NotContains(t, imp.Path.Value, "go-redis", "%s imports go-redis: the Redis store has a package of its own", f)
		}
	}
}

// A service that keeps its limits in memory builds no go-redis: the four
// library packages do not depend on it, and middleware not on ratelimit.
func TestLibraryDependencies(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	out, err := exec.Command(gobin, "list", "-deps", "../catalog", "../problem", "../middleware", ".").CombinedOutput()
	require.NoError(t, err, "go list -deps: %s", out)
	deps := strings.Fields(string(out))
	require.Contains(t, deps, "github.com/faultline-go/faultline/ratelimit", "go list -deps output %q", out)
	for _, d := range deps {
		assert.NotContains(t, d, "go-redis", "the library packages depend on %s", d)
	}
	out, err = exec.Command(gobin, "list", "-deps", "../middleware").CombinedOutput()
	require.NoError(t, err, "go list -deps ../middleware: %s", out)
	assert.NotContains(t, strings.Fields(string(out)), "github.com/faultline-go/faultline/ratelimit", "middleware depends on ratelimit")
}

// Policies at and past the documented maximums: New never panics, the
// largest valid ones decide with sane headers, and r is never negative.
func TestLimiterPolicyBounds(t *testing.T) {
	invalid := []ratelimit.Policy{
		{Name: "p", Rate: 1, Burst: 1 << 40},
		{Name: "p", Rate: 1, Burst: math.MaxUint32},
		{Name: "p", Rate: 1, Burst: 4611686018427387904},
		{Name: "p", Rate: 2e9, Burst: 1},
		{Name: "p", Rate: 1e-12, Burst: 1},
		{Name: "p", Rate: rate.Limit(math.NaN()), Burst: 1},
		{Name: "p", Rate: rate.Limit(math.Inf(-1)), Burst: 1},
	}
	for _, p := range invalid {
		t.Run("invalid "+p.String(), func(t *testing.T) {
			var err error
			assert.NotPanics(t, func() { _, err = ratelimit.New(ratelimit.Config{Policy: p}) }, "New(%v) panicked", p)
			assert.ErrorIs(t, err, ratelimit.ErrInvalidPolicy, "New(%v) = %v, want ErrInvalidPolicy", p, err)
			assert.Panics(t, func() { ratelimit.MustNew(ratelimit.Config{Policy: p}) }, "MustNew(%v) did not panic", p)
		})
	}
	valid := []struct {
		p          ratelimit.Policy
		wantPolicy string
		wantValue  string
	}{
		{ratelimit.Policy{Name: "max-burst", Rate: ratelimit.MaxRate, Burst: ratelimit.MaxBurst}, `"max-burst";q=1073741824;w=2`, `"max-burst";r=1073741823;t=1`},
		{ratelimit.Policy{Name: "max-window", Rate: rate.Limit(float64(time.Second) / float64(ratelimit.MaxWindow)), Burst: 1}, `"max-window";q=1;w=4611686019`, `"max-window";r=0;t=4611686019`},
		{ratelimit.Policy{Name: "inf", Rate: rate.Inf, Burst: ratelimit.MaxBurst}, `"inf";q=1073741824;w=1`, `"inf";r=1073741824;t=0`},
	}
	for _, tt := range valid {
		t.Run("valid "+tt.p.Name, func(t *testing.T) {
			require.NoError(t, tt.p.Validate(), "Validate(%v)", tt.p)
			lim := newLimiter(t, ratelimit.Config{Store: newSteppedStore(t), Policy: tt.p})
			h := chiStack(problem.EnvelopeFlat, lim, nil)
			rec := serve(h, http.MethodGet, "/v1/ping")
			require.Equal(t, http.StatusOK, rec.Code, "status = %d, want 200; body %s", rec.Code, rec.Body)
			assert.Equal(t, tt.wantPolicy, rec.Header().Get(ratelimit.HeaderRateLimitPolicy), "RateLimit-Policy")
			assert.Equal(t, tt.wantValue, rec.Header().Get(ratelimit.HeaderRateLimit), "RateLimit")
			for i := 0; i < 3; i++ {
				rec = serve(h, http.MethodGet, "/v1/ping")
				for _, it := range parseList(t, rec.Header().Get(ratelimit.HeaderRateLimit)) {
					assert.GreaterOrEqual(t, it.params["r"], 0, "request %d: r = %d, want >= 0", i+2, it.params["r"])
					assert.GreaterOrEqual(t, it.params["t"], 0, "request %d: t = %d, want >= 0", i+2, it.params["t"])
				}
			}
		})
	}
}

// A policy computed per request is validated: an invalid one is a
// sanitized 500, logged once per policy, on memory and on a store that
// would fail (which must not turn it into an outage).
func TestLimiterComputedPolicyValidated(t *testing.T) {
	bad := []ratelimit.Policy{
		{Name: "zero-rate", Rate: 0, Burst: 5},
		{Name: "zero-burst", Rate: 5, Burst: 0},
		{Name: "negative", Rate: -1, Burst: 5},
		{Name: "nan", Rate: rate.Limit(math.NaN()), Burst: 5},
		{Name: `bad "name"`, Rate: 5, Burst: 5},
	}
	for _, p := range bad {
		for _, storeName := range []string{"memory", "failing"} {
			t.Run(p.Name+"/"+storeName, func(t *testing.T) {
				logs := &recordingHandler{}
				var store ratelimit.Store = newSteppedStore(t)
				if storeName == "failing" {
					store = failingStore{errStoreDown}
				}
				lim := newLimiter(t, ratelimit.Config{
					Store:     store,
					Outage:    ratelimit.FailOpen,
					Logger:    slog.New(logs),
					PolicyFor: func(*http.Request, *middleware.Principal) (ratelimit.Policy, bool) { return p, true },
				})
				r := chi.NewRouter()
				r.Use(middleware.RequestID, middleware.Recover(renderer(problem.EnvelopeProblem)), demoKeys(t), lim.Handler)
				r.Get("/v1/ping", okHandler)
				for i := 0; i < 3; i++ {
					rec := serve(r, http.MethodGet, "/v1/ping", basicAuth("k", "s"))
					require.Equal(t, http.StatusInternalServerError, rec.Code, "request %d: status = %d, want 500", i+1, rec.Code)
					assert.Contains(t, rec.Body.String(), "exc_", "request %d: body %s is not a sanitized 500", i+1, rec.Body)
					assert.NotContains(t, rec.Body.String(), p.Name, "request %d: the body leaks the policy", i+1)
				}
				var invalid int
				for _, rec := range logs.records() {
					if rec.Message == "rate limit policy invalid" {
						invalid++
					}
					assert.NotEqual(t, "rate limit store failed", rec.Message, "an invalid policy was logged as a store outage")
				}
				assert.Equal(t, 1, invalid, "records of the invalid policy = %d, want 1", invalid)
			})
		}
	}
}

// FallBack advertises the scaled policy it enforces; FailOpen advertises
// nothing, as it enforces nothing.
func TestLimiterOutageHeaders(t *testing.T) {
	lim := newLimiter(t, ratelimit.Config{Store: failingStore{errStoreDown}, FallbackShare: 0.5})
	h := chiStack(problem.EnvelopeFlat, lim, func(r chi.Router) {
		r.With(lim.Route("reports", ratelimit.Policy{Rate: 4, Burst: 4})).Get("/v1/reports", okHandler)
	})
	rec := serve(h, http.MethodGet, "/v1/ping")
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, `"sandbox";q=5;w=1`, rec.Header().Get(ratelimit.HeaderRateLimitPolicy), "FallBack RateLimit-Policy: the scaled burst")
	assert.Equal(t, `"sandbox";r=4;t=1`, rec.Header().Get(ratelimit.HeaderRateLimit), "FallBack RateLimit")
	rec = serve(h, http.MethodGet, "/v1/reports")
	assert.Equal(t, `"sandbox";q=5;w=1, "reports";q=2;w=1`, rec.Header().Get(ratelimit.HeaderRateLimitPolicy), "FallBack route RateLimit-Policy")

	open := newLimiter(t, ratelimit.Config{Store: failingStore{errStoreDown}, Outage: ratelimit.FailOpen})
	rec = serve(chiStack(problem.EnvelopeFlat, open, nil), http.MethodGet, "/v1/ping")
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Empty(t, rec.Header().Values(ratelimit.HeaderRateLimitPolicy), "FailOpen RateLimit-Policy")
	assert.Empty(t, rec.Header().Values(ratelimit.HeaderRateLimit), "FailOpen RateLimit")
}

// A closed store is no outage: the limiter answers a sanitized 500 under
// every Outage, never admits silently.
func TestLimiterClosedStore(t *testing.T) {
	for _, o := range []ratelimit.Outage{ratelimit.FallBack, ratelimit.FailOpen, ratelimit.FailClosed} {
		t.Run(o.String(), func(t *testing.T) {
			lim := newLimiter(t, ratelimit.Config{Store: failingStore{ratelimit.ErrClosed}, Outage: o})
			rec := serve(chiStack(problem.EnvelopeProblem, lim, nil), http.MethodGet, "/v1/ping")
			assert.Equal(t, http.StatusInternalServerError, rec.Code, "closed store under %v: status = %d, want 500", o, rec.Code)
		})
	}
}

// flakyStore is a MemoryStore that fails with err while err is set, and
// counts the Takes that reach it.
type flakyStore struct {
	*steppedStore
	err   error
	takes int
}

func (s *flakyStore) Take(ctx context.Context, c []ratelimit.Check, r []ratelimit.Result) (bool, error) {
	s.takes++
	if s.err != nil {
		return false, s.err
	}
	return s.steppedStore.Take(ctx, c, r)
}

// The breaker stops asking a failing store after BreakerFailures
// failures, probes it once per BreakerProbe, and closes when it answers.
func TestLimiterBreaker(t *testing.T) {
	now := base0
	store := &flakyStore{steppedStore: newSteppedStore(t), err: errStoreDown}
	logs := &recordingHandler{}
	lim := newLimiter(t, ratelimit.Config{Store: store, BreakerFailures: 3, BreakerProbe: time.Second,
		Logger: slog.New(logs), Now: func() time.Time { return now }})
	h := chiStack(problem.EnvelopeFlat, lim, nil)
	for i := 0; i < 10; i++ {
		rec := serve(h, http.MethodGet, "/v1/ping", fromAddr("192.0.2."+strconv.Itoa(i)+":1"))
		require.Equal(t, http.StatusOK, rec.Code, "request %d under FallBack", i+1)
	}
	assert.Equal(t, 3, store.takes, "store calls = %d, want 3: the breaker opens after 3 failures", store.takes)

	now = now.Add(time.Second) // half-open: one probe, which fails
	serve(h, http.MethodGet, "/v1/ping")
	serve(h, http.MethodGet, "/v1/ping")
	assert.Equal(t, 4, store.takes, "store calls after the probe period = %d, want 4 (one probe)", store.takes)

	store.err = nil // the store answers again
	now = now.Add(time.Second)
	rec := serve(h, http.MethodGet, "/v1/ping", fromAddr("198.51.100.1:1"))
	require.Equal(t, http.StatusOK, rec.Code)
	serve(h, http.MethodGet, "/v1/ping", fromAddr("198.51.100.1:1"))
	assert.Equal(t, 6, store.takes, "store calls after recovery = %d, want 6 (closed again)", store.takes)
	var msgs []string
	for _, r := range logs.records() {
		msgs = append(msgs, r.Message)
	}
	assert.Contains(t, msgs, "rate limit store failing: breaker open", "log records %q", msgs)
	assert.Contains(t, msgs, "rate limit store answers again: breaker closed", "log records %q", msgs)
}

// A store error that says the store is unreachable opens the breaker at
// once: the next request does not wait on it.
func TestLimiterBreakerOpensOnUnavailable(t *testing.T) {
	store := &flakyStore{steppedStore: newSteppedStore(t), err: errUnavailable}
	lim := newLimiter(t, ratelimit.Config{Store: store, BreakerFailures: 5})
	h := chiStack(problem.EnvelopeFlat, lim, nil)
	for i := 0; i < 4; i++ {
		serve(h, http.MethodGet, "/v1/ping")
	}
	assert.Equal(t, 1, store.takes, "store calls = %d, want 1", store.takes)
}

type unavailableError struct{}

func (unavailableError) Error() string { return "dial tcp 127.0.0.1:1: connect: connection refused" }
func (unavailableError) Is(target error) bool {
	return target == ratelimit.ErrStoreUnavailable
}

var errUnavailable error = unavailableError{}

// Under FailOpen, the log record counts what it admitted.
func TestLimiterFailOpenCountsAdmissions(t *testing.T) {
	logs := &recordingHandler{}
	now := base0
	lim := newLimiter(t, ratelimit.Config{Store: failingStore{errStoreDown}, Outage: ratelimit.FailOpen,
		Logger: slog.New(logs), Now: func() time.Time { return now }})
	h := chiStack(problem.EnvelopeFlat, lim, nil)
	for i := 0; i < 7; i++ {
		serve(h, http.MethodGet, "/v1/ping")
	}
	now = now.Add(2 * time.Second) // the probe fails, and the record is due
	serve(h, http.MethodGet, "/v1/ping")
	admitted := 0
	for _, r := range logs.records() {
		n, err := strconv.Atoi(attrs(r)["admitted_unlimited"])
		require.NoError(t, err, "record %q: admitted_unlimited", r.Message)
		admitted += n
	}
	assert.Equal(t, 8, admitted, "admitted_unlimited over the log records = %d, want 8, every request", admitted)
}

// During an outage, a route refusal gives the token back to the fallback
// store that took it.
func TestLimiterRouteRefusalRefundsFallback(t *testing.T) {
	lim := newLimiter(t, ratelimit.Config{Store: failingStore{errStoreDown}, BreakerFailures: 1})
	h := chiStack(problem.EnvelopeFlat, lim, func(r chi.Router) {
		r.With(lim.Route("reports", ratelimit.Policy{Rate: rate.Every(time.Hour), Burst: 2})).Get("/v1/reports", okHandler)
	})
	// Fallback at half: sandbox burst 5, reports burst 1.
	rec := serve(h, http.MethodGet, "/v1/reports")
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, 4, remaining(t, rec, "sandbox"), "first report: sandbox r")
	for i := 0; i < 3; i++ {
		rec = serve(h, http.MethodGet, "/v1/reports")
		require.Equal(t, http.StatusTooManyRequests, rec.Code, "refusal %d", i+1)
		assert.Equal(t, 4, remaining(t, rec, "sandbox"), "refusal %d: sandbox r = %d, want 4 (given back to the fallback store)", i+1, remaining(t, rec, "sandbox"))
	}
}

// ctxStore fails as a store does when the request's context ends first.
type ctxStore struct{ flakyStore }

func (s *ctxStore) Take(ctx context.Context, c []ratelimit.Check, r []ratelimit.Result) (bool, error) {
	s.takes++
	return false, ctx.Err()
}

// A client that goes away mid-decision says nothing of the store: the
// breaker neither counts it nor stays stuck in a probe.
func TestLimiterClientGoneIsNoStoreFailure(t *testing.T) {
	now := base0
	store := &ctxStore{flakyStore{steppedStore: newSteppedStore(t)}}
	lim := newLimiter(t, ratelimit.Config{Store: store, BreakerFailures: 1, Now: func() time.Time { return now }})
	h := chiStack(problem.EnvelopeFlat, lim, nil)
	for i := 0; i < 3; i++ {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		serve(h, http.MethodGet, "/v1/ping", func(r *http.Request) { *r = *r.WithContext(ctx) })
	}
	assert.Equal(t, 3, store.takes, "store calls = %d, want 3: canceled requests do not open the breaker", store.takes)
}
