package problem_test

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/catalog"
	"github.com/faultline-go/faultline/problem"
)

// rawGet sends target as the request line's target, byte for byte (no
// client normalizes it), to srv and returns the decoded JSON body.
func rawGet(t *testing.T, srv *httptest.Server, target string) map[string]any {
	t.Helper()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	_, err = fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n", target)
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err, "GET %q", target)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err, "GET %q body", target)
	return decodeObject(t, raw)
}

// TestProblemInstanceIsTheEscapedPath serves the problem envelope over a
// real connection and checks that instance is the path as the client sent
// it, escaped, and a URI reference even for targets net/http accepts raw.
func TestProblemInstanceIsTheEscapedPath(t *testing.T) {
	rd, _ := envRenderer(t, problem.EnvelopeProblem)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rd.Write(w, r, notFound())
	}))
	defer srv.Close()
	tests := []struct{ target, want string }{
		{"/v1/accounts/a%25b", "/v1/accounts/a%25b"},
		{"/v1/accounts/a%20b", "/v1/accounts/a%20b"},
		{"/v1/accounts/a%2Fb", "/v1/accounts/a%2Fb"},
		{"/v1/accounts/%C3%A9%22x", "/v1/accounts/%C3%A9%22x"},
		{"/v1/accounts/a%2Fb?x=%22", "/v1/accounts/a%2Fb"},
		{`/v1/accounts/"x"`, "/v1/accounts/%22x%22"},
		{"/v1/accounts/\xc3\xa9", "/v1/accounts/%C3%A9"},
		{"/v1/accounts/[a]{b}", "/v1/accounts/%5Ba%5D%7Bb%7D"},
		{"//evil.example/x", "/.//evil.example/x"},
		{"http://example.com/v1/a%2Fb", "/v1/a%2Fb"},
	}
	for _, tc := range tests {
		body := rawGet(t, srv, tc.target)
		assert.Equal(t, tc.want, body["instance"], "GET %q: instance = %v, want %q", tc.target, body["instance"], tc.want)
	}
}

// TestProblemQuotaExceeded checks the rate-limit draft's problem type on a
// 429 in the problem envelope, and only there.
func TestProblemQuotaExceeded(t *testing.T) {
	cat := catalog.MustNew("", catalog.Code{Name: "DAILY_QUOTA", Status: http.StatusTooManyRequests})
	rd, _ := newRenderer(t, problem.Config{Catalog: cat}, slog.LevelInfo)
	typed, _ := newRenderer(t, problem.Config{Catalog: cat, TypeBaseURI: "https://example.com/problems"}, slog.LevelInfo)
	const title = "Request cannot be satisfied as assigned quota has been exceeded"
	tests := []struct {
		name         string
		rd           *problem.Renderer
		err          error
		wantType     string
		wantTitle    string
		wantPolicies any // nil: no violated-policies member
	}{
		{"one policy", rd, problem.New(catalog.ResourceExhausted, "").WithPolicies("reports").WithMeta("policy", "reports"),
			problem.TypeQuotaExceeded, title, []any{"reports"}},
		{"two policies", rd, problem.New(catalog.ResourceExhausted, "").WithPolicies("sandbox", "reports"),
			problem.TypeQuotaExceeded, title, []any{"sandbox", "reports"}},
		{"no policy named", rd, problem.New(catalog.ResourceExhausted, ""),
			problem.TypeQuotaExceeded, title, []any{}},
		{"a service's own 429 code", rd, problem.New("DAILY_QUOTA", "").WithPolicies("daily"),
			problem.TypeQuotaExceeded, title, []any{"daily"}},
		{"metadata cannot replace the member", rd, problem.New(catalog.ResourceExhausted, "").WithPolicies("a").WithMeta("violated-policies", "x"),
			problem.TypeQuotaExceeded, title, []any{"a"}},
		{"type base URI overrides", typed, problem.New(catalog.ResourceExhausted, "").WithPolicies("reports"),
			"https://example.com/problems/resource-exhausted", "Too Many Requests", nil},
		{"not a 429", rd, problem.New(catalog.Unavailable, "").WithPolicies("reports"),
			"about:blank", "Service Unavailable", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := write(tc.rd, "/v1/reports", tc.err)
			body := decodeObject(t, rec.Body.Bytes())
			assert.Equal(t, tc.wantType, body["type"], "Write(%v) type", tc.err)
			assert.Equal(t, tc.wantTitle, body["title"], "Write(%v) title", tc.err)
			got, ok := body["violated-policies"]
			if tc.wantPolicies == nil {
				assert.False(t, ok, "Write(%v) has violated-policies %v, want none", tc.err, got)
				return
			}
			assert.Equal(t, tc.wantPolicies, got, "Write(%v) violated-policies", tc.err)
		})
	}
	t.Run("metadata stays", func(t *testing.T) {
		body := decodeObject(t, write(rd, "/v1/reports",
			problem.New(catalog.ResourceExhausted, "").WithPolicies("reports").WithMeta("policy", "reports")).Body.Bytes())
		assert.Equal(t, "reports", body["policy"], "policy member")
		assert.Equal(t, "RESOURCE_EXHAUSTED", body["code"], "code member")
	})
}

// TestPoliciesLeaveOtherEnvelopes checks that naming the violated policies
// changes no byte of the flat, google and tracked bodies.
func TestPoliciesLeaveOtherEnvelopes(t *testing.T) {
	for _, env := range []string{problem.EnvelopeFlat, problem.EnvelopeGoogle, problem.EnvelopeTracked} {
		rd, _ := envRenderer(t, env)
		plain := func() *problem.Error { return problem.New(catalog.ResourceExhausted, "").WithMeta("policy", "reports") }
		without := serveThroughRequestID(rd, httptest.NewRequest(http.MethodGet, "/v1/reports", nil), plain())
		with := serveThroughRequestID(rd, httptest.NewRequest(http.MethodGet, "/v1/reports", nil), plain().WithPolicies("reports"))
		assert.Equal(t, without.Body.String(), with.Body.String(), "%s: Write(WithPolicies) body", env)
	}
}

func TestWithPolicies(t *testing.T) {
	e := problem.New(catalog.ResourceExhausted, "").WithPolicies("sandbox", "reports")
	assert.Equal(t, []string{"sandbox", "reports"}, e.Policies, "WithPolicies(sandbox, reports).Policies")
}

// TestMetadataSorted checks that metadata members come out sorted by key,
// both within the stack array the renderer sorts in and beyond it.
func TestMetadataSorted(t *testing.T) {
	rd, _ := envRenderer(t, problem.EnvelopeProblem)
	for _, n := range []int{3, 8, 12} {
		e := problem.New(catalog.Conflict, "")
		want := ""
		for i := n - 1; i >= 0; i-- {
			e.WithMeta(fmt.Sprintf("k%02d", i), "v")
		}
		for i := range n {
			want += fmt.Sprintf(`,"k%02d":"v"`, i)
		}
		body := write(rd, "/x", e).Body.String()
		assert.Contains(t, body, `"errors":[]`+want+"}", "Write(%d metadata entries) body", n)
	}
}
