package ratelimit_test

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/go-chi/chi/v5"
	chimw "github.com/go-chi/chi/v5/middleware"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/middleware"
	"github.com/faultline-go/faultline/problem"
	"github.com/faultline-go/faultline/ratelimit"
)

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
