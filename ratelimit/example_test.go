package ratelimit_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"golang.org/x/time/rate"

	"github.com/faultline-go/faultline/middleware"
	"github.com/faultline-go/faultline/problem"
	"github.com/faultline-go/faultline/ratelimit"
)

func ExampleMemoryStore_AllowAt() {
	s := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{})
	defer s.Close()
	p := ratelimit.Policy{Name: "reports", Rate: 2, Burst: 2}
	start := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	for _, d := range []time.Duration{0, 0, 0, 250 * time.Millisecond, 500 * time.Millisecond} {
		r := s.AllowAt(start.Add(d), "key-1", p)
		fmt.Printf("+%v: allowed=%v remaining=%d reset=%v retry-after=%v\n", d, r.Allowed, r.Remaining, r.Reset, r.RetryAfter)
	}
	// Output:
	// +0s: allowed=true remaining=1 reset=500ms retry-after=0s
	// +0s: allowed=true remaining=0 reset=1s retry-after=0s
	// +0s: allowed=false remaining=0 reset=1s retry-after=500ms
	// +250ms: allowed=false remaining=0 reset=750ms retry-after=250ms
	// +500ms: allowed=true remaining=0 reset=1s retry-after=0s
}

func ExampleLimiter_Route() {
	// Policies that refill slowly keep the output the same however slow
	// the machine.
	lim := ratelimit.MustNew(ratelimit.Config{
		Policy: ratelimit.Policy{Name: "api", Rate: rate.Every(6 * time.Second), Burst: 10},
	})
	defer lim.Close()
	rd := problem.MustRenderer(problem.Config{Envelope: problem.EnvelopeFlat, Prefix: "BLUM", Logger: slog.New(slog.DiscardHandler)})

	r := chi.NewRouter()
	r.Use(middleware.RequestID, middleware.Recover(rd))
	// Route in place of Handler: the caller's policy and the route's in
	// one store call. Handler limits the other routes.
	r.With(lim.Route("reports", ratelimit.Policy{Rate: rate.Every(time.Minute), Burst: 2})).
		Get("/v1/reports", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("report\n")) })
	r.With(lim.Handler).Get("/v1/accounts", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("accounts\n")) })

	for i := 0; i < 3; i++ {
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/reports", nil))
		h := rec.Result().Header
		fmt.Println(rec.Code, h.Get(ratelimit.HeaderRateLimit))
		if i == 0 {
			fmt.Println("policy:", h.Get(ratelimit.HeaderRateLimitPolicy))
		}
		if rec.Code != http.StatusOK {
			fmt.Println("retry after:", h.Get(ratelimit.HeaderRetryAfter))
			fmt.Print(rec.Body.String())
		}
	}
	// Output:
	// 200 "api";r=9;t=6, "reports";r=1;t=60
	// policy: "api";q=10;w=60, "reports";q=2;w=120
	// 200 "api";r=8;t=12, "reports";r=0;t=120
	// 429 "api";r=8;t=12, "reports";r=0;t=120
	// retry after: 60
	// {"code":"BLUM-429-001","message":"Rate limit exceeded for policy \"reports\"."}
}

func ExampleLimit() {
	h := ratelimit.Limit(2)(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok"))
	}))
	for i := 0; i < 3; i++ {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		fmt.Println(rec.Code, rec.Result().Header.Get(ratelimit.HeaderRateLimit))
	}
	// Output:
	// 200 "default";r=1;t=1
	// 200 "default";r=0;t=1
	// 429 "default";r=0;t=1
}

// ExampleMemoryStore_Limiter binds a policy to the store once, so each
// decision hashes only the key.
func ExampleMemoryStore_Limiter() {
	store := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{})
	defer store.Close()
	perKey, err := store.Limiter(ratelimit.Policy{Name: "login", Rate: rate.Every(time.Minute), Burst: 2})
	if err != nil {
		panic(err)
	}

	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for i := 0; i < 3; i++ {
		r := perKey.AllowAt(t0, "alice")
		fmt.Println(r.Allowed, r.Remaining, r.RetryAfter)
	}
	fmt.Println(perKey.AllowAt(t0.Add(time.Minute), "alice").Allowed)
	// Output:
	// true 1 0s
	// true 0 0s
	// false 0 1m0s
	// true
}

// ExampleNew maps callers to policies: a key pair's environment picks its
// preset, and a plan of the service's own wins over it.
func ExampleNew() {
	keys, err := middleware.NewStaticKeys(
		middleware.KeyPair{Key: "sb-key", Secret: "sb-secret", Environment: "sandbox"},
		middleware.KeyPair{Key: "live-key", Secret: "live-secret", Environment: "production"},
		middleware.KeyPair{Key: "gold-key", Secret: "gold-secret", Environment: "production", Plan: "gold"},
	)
	if err != nil {
		panic(err)
	}
	lim, err := ratelimit.New(ratelimit.Config{
		Plans: map[string]ratelimit.Policy{"gold": {Rate: 100, Burst: 200}},
	})
	if err != nil {
		panic(err)
	}
	defer lim.Close()
	rd := problem.MustRenderer(problem.Config{Logger: slog.New(slog.DiscardHandler)})
	h := middleware.Stack(rd, middleware.KeyAuth(keys), lim.Handler)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))

	for _, key := range []string{"sb-key", "live-key", "gold-key"} {
		req := httptest.NewRequest(http.MethodGet, "/v1/accounts", nil)
		req.SetBasicAuth(key, strings.TrimSuffix(key, "-key")+"-secret")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		fmt.Println(key, rec.Result().Header.Get(ratelimit.HeaderRateLimitPolicy))
	}
	// Output:
	// sb-key "sandbox";q=10;w=1
	// live-key "production";q=25;w=1
	// gold-key "gold";q=200;w=2
}
