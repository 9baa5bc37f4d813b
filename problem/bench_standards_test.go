package problem_test

import (
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/faultline-go/faultline/catalog"
	"github.com/faultline-go/faultline/problem"
)

// BenchmarkRenderStandards renders through the options of the standards
// the renderer follows: the google-strict envelope, and (below) the other
// opt-in features, so that their allocations stay in sight.
func BenchmarkRenderStandards(b *testing.B) {
	notFound := problem.New(catalog.NotFound, "Order 42 not found.")
	limited := problem.New(catalog.ResourceExhausted, "").WithMeta("policy", "reports").
		WithPolicies("reports").WithRetryAfter(2 * time.Second)
	internal := errors.New("db: connection refused (password=hunter2)")
	strict := problem.Config{Envelope: problem.EnvelopeGoogleStrict, ErrorDomain: "orders.example.com"}
	cases := []struct {
		name   string
		cfg    problem.Config
		err    error
		status int
	}{
		{"google-strict/404", strict, notFound, http.StatusNotFound},
		{"google-strict/429", strict, limited, http.StatusTooManyRequests},
		{"google-strict/500", strict, internal, http.StatusInternalServerError},
		{"problem/429", problem.Config{}, limited, http.StatusTooManyRequests},
		{"problem/hostile-path", problem.Config{}, notFound, http.StatusNotFound},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			tc.cfg.Logger = slog.New(slog.DiscardHandler)
			rd, err := problem.NewRenderer(tc.cfg)
			if err != nil {
				b.Fatal(err)
			}
			target := "/orders/42"
			if tc.name == "problem/hostile-path" {
				target = "/orders/%C3%A9%22x"
			}
			r := httptest.NewRequest(http.MethodGet, target, nil)
			w := &discardWriter{header: make(http.Header, 8)}
			b.ReportAllocs()
			for b.Loop() {
				w.reset()
				rd.Write(w, r, tc.err)
			}
			if w.status != tc.status || w.n == 0 {
				b.Fatalf("Write(%v) status %d with %d bytes, want %d with a body", tc.err, w.status, w.n, tc.status)
			}
		})
	}
}

// allEnvelopes are the built-in envelopes, google-strict included.
var allEnvelopes = append(append([]string(nil), envelopes...), problem.EnvelopeGoogleStrict)

// TestRenderAllocsStandards holds every envelope to the budget of three
// allocations per error response for what the standards add: a rate-limit
// 429 with metadata, policies and a retry delay, and a path that must be
// escaped.
func TestRenderAllocsStandards(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	limited := problem.New(catalog.ResourceExhausted, "").WithMeta("policy", "reports").
		WithMeta("scope", "key").WithPolicies("reports").WithRetryAfter(2 * time.Second)
	for _, env := range allEnvelopes {
		for _, opts := range []string{"plain", "doclinks", "negotiate"} {
			t.Run(env+"/"+opts, func(t *testing.T) {
				cfg := problem.Config{Envelope: env, ErrorDomain: "orders.example.com", Logger: slog.New(slog.DiscardHandler)}
				accept := ""
				switch opts {
				case "doclinks":
					cfg.TypeBaseURI, cfg.DocLinks = "https://errors.example.com", true
				case "negotiate":
					cfg.Negotiate = true
					accept = "text/html;level=1, application/problem+json;q=0.9, application/json;q=0.5"
				}
				allocsWithin(t, cfg, limited, accept)
			})
		}
	}
}

// allocsWithin fails unless a renderer of cfg answers limited and a 404,
// for plain and escaped paths and the Accept header accept (none when
// empty), within three allocations.
func allocsWithin(t *testing.T, cfg problem.Config, limited error, accept string) {
	t.Helper()
	rd, err := problem.NewRenderer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	w := &discardWriter{header: make(http.Header, 8)}
	for _, target := range []string{"/v1/reports", "/v1/a%2Fb%C3%A9", `/v1/"x"`} {
		r := httptest.NewRequest(http.MethodGet, target, nil)
		if accept != "" {
			r.Header.Set("Accept", accept)
		}
		for _, e := range []error{limited, problem.New(catalog.NotFound, "")} {
			got := testing.AllocsPerRun(200, func() {
				w.reset()
				rd.Write(w, r, e)
			})
			if limit := 3.0; got > limit {
				t.Errorf("Write(%q, %v) allocations = %v, want <= %v", target, e, got, limit)
			}
		}
	}
}
