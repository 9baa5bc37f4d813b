package problem_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/faultline-go/faultline/catalog"
	"github.com/faultline-go/faultline/problem"
)

// FuzzRenderStandards renders a 429 with an arbitrary path, policy name,
// metadata entry, Accept header and retry delay in every envelope, with
// documentation links and negotiation on. Every body must be valid JSON,
// and every instance a string the request path's escaping produced.
func FuzzRenderStandards(f *testing.F) {
	f.Add("/v1/reports", "reports", "policy", "reports", "application/problem+json", int64(time.Second))
	f.Add(`/v1/a%2Fb"c`, "\xff\"", "violated-policies", "x", "application/json;q=0", int64(1))
	f.Add("//evil/x", "", "", "", `*/*;a="b,c"`, int64(-1))
	rds := make([]*problem.Renderer, 0, len(allEnvelopes))
	for _, env := range allEnvelopes {
		rds = append(rds, problem.MustRenderer(problem.Config{Envelope: env, ErrorDomain: testDomain,
			TypeBaseURI: "https://errors.example.com", DocLinks: true, Negotiate: true,
			Logger: slog.New(slog.DiscardHandler)}))
	}
	f.Fuzz(func(t *testing.T, target, policy, key, value, accept string, retry int64) {
		u, err := url.ParseRequestURI(target)
		if err != nil {
			return
		}
		r := &http.Request{Method: http.MethodGet, URL: u, RequestURI: target, Header: http.Header{"Accept": {accept}}}
		e := problem.New(catalog.ResourceExhausted, "").WithPolicies(policy).WithMeta(key, value).
			WithRetryAfter(time.Duration(retry))
		for _, rd := range rds {
			status, _, body := rd.Render(r, e)
			if status != http.StatusTooManyRequests || !json.Valid(body) {
				t.Fatalf("%s: Render(%q) = %d %q, want 429 with valid JSON", rd.Envelope().Name(), target, status, body)
			}
			var m struct{ Instance *string }
			if err := json.Unmarshal(body, &m); err != nil {
				t.Fatalf("%s: Render(%q) body %q: %v", rd.Envelope().Name(), target, body, err)
			}
			if m.Instance != nil {
				if ref, err := url.Parse(*m.Instance); err != nil || ref.Host != "" || ref.Scheme != "" {
					t.Fatalf("%s: Render(%q) instance %q is no path reference (%v)", rd.Envelope().Name(), target, *m.Instance, err)
				}
			}
		}
	})
}
