package problem

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pathReference matches an RFC 3986 relative reference that is a path
// alone (path-absolute, or path-noscheme / path-empty), written out from
// the RFC's ABNF independently of instance's code.
var pathReference = regexp.MustCompile(`^(?:/(?:(?:[A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})+(?:/(?:[A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})*)*)?` +
	`|(?:[A-Za-z0-9\-._~!$&'()*+,;=@]|%[0-9A-Fa-f]{2})+(?:/(?:[A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})*)*` +
	`|)$`)

func TestInstance(t *testing.T) {
	tests := []struct {
		name, target, want string
	}{
		{"plain", "/v1/orders/ord_42", "/v1/orders/ord_42"},
		{"query dropped", "/v1/orders?token=secret", "/v1/orders"},
		{"escaped percent", "/v1/accounts/a%25b", "/v1/accounts/a%25b"},
		{"escaped space", "/v1/accounts/a%20b", "/v1/accounts/a%20b"},
		{"escaped slash", "/v1/accounts/a%2Fb", "/v1/accounts/a%2Fb"},
		{"escaped non-ASCII and quote", "/v1/accounts/%C3%A9%22x", "/v1/accounts/%C3%A9%22x"},
		{"lower-case escapes kept", "/v1/accounts/%c3%a9", "/v1/accounts/%c3%a9"},
		{"sub-delims and colon kept", "/v1/a:b@c!$&'()*+,;=", "/v1/a:b@c!$&'()*+,;="},
		{"raw quote", `/v1/a"b`, "/v1/a%22b"},
		{"raw non-ASCII", "/v1/\xc3\xa9", "/v1/%C3%A9"},
		{"raw invalid UTF-8", "/v1/\xff", "/v1/%FF"},
		{"raw brackets", "/v1/[x]", "/v1/%5Bx%5D"},
		{"raw backslash and caret", `/v1/a\b^c`, "/v1/a%5Cb%5Ec"},
		{"raw braces pipe backtick", "/v1/{a}|`", "/v1/%7Ba%7D%7C%60"},
		{"escaped mixed with raw", `/v1/a%2Fb"c`, "/v1/a%2Fb%22c"},
		{"raw hash", "/v1/a#b", "/v1/a%23b"},
		{"network-path lookalike", "//evil.example/x", "/.//evil.example/x"},
		{"asterisk", "*", "*"},
		{"root", "/", "/"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := serverRequest(t, tc.target)
			got := instance(r)
			assert.Equal(t, tc.want, got, "instance(%q) = %q, want %q", tc.target, got, tc.want)
			assert.Regexp(t, pathReference, got, "instance(%q) is not a path-only URI reference", tc.target)
		})
	}
}

// serverRequest is the request net/http's server makes of target.
func serverRequest(t testing.TB, target string) *http.Request {
	t.Helper()
	u, err := url.ParseRequestURI(target)
	require.NoError(t, err, "ParseRequestURI(%q)", target)
	return &http.Request{Method: http.MethodGet, URL: u, RequestURI: target}
}

// TestInstanceWithoutRequestURI checks requests that carry no origin-form
// target: made in process, or in absolute form. The escaped URL path is
// used, and a RawPath that does not encode Path is ignored.
func TestInstanceWithoutRequestURI(t *testing.T) {
	tests := []struct {
		name string
		r    *http.Request
		want string
	}{
		{"client request", &http.Request{URL: &url.URL{Path: "/v1/a%b", RawPath: "/v1/a%25b"}}, "/v1/a%25b"},
		{"lying RawPath", &http.Request{URL: &url.URL{Path: "/v1/a b", RawPath: "/v1/other"}}, "/v1/a%20b"},
		{"absolute form", serverRequest(t, "http://example.com/v1/a%2Fb?q=1"), "/v1/a%2Fb"},
		{"absolute form, hostile", serverRequest(t, "http://example.com//evil/x"), "/.//evil/x"},
	}
	for _, tc := range tests {
		got := instance(tc.r)
		assert.Equal(t, tc.want, got, "%s: instance(%v) = %q, want %q", tc.name, tc.r.URL, got, tc.want)
	}
}

func TestInstanceMakesReferences(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/a%zz", "/a%25zz"},
		{"/a%", "/a%25"},
		{"/a%4", "/a%254"},
		{"/a?b#c", "/a%3Fb%23c"},
		{"a:b/c", "./a:b/c"},
		{"a/b:c", "a/b:c"},
		{"//", "/.//"},
		{"", ""},
	}
	for _, tc := range tests {
		got := makeOrKeep(tc.in)
		assert.Equal(t, tc.want, got, "makeOrKeep(%q) = %q, want %q", tc.in, got, tc.want)
		assert.Regexp(t, pathReference, got, "makeOrKeep(%q) is not a path-only URI reference", tc.in)
	}
}

// makeOrKeep is instance's decision on an already escaped path.
func makeOrKeep(p string) string {
	if pathIsReference(p) {
		return p
	}
	return makeReference(p)
}

func TestInstanceDoesNotAllocateForCleanPaths(t *testing.T) {
	for _, target := range []string{"/v1/accounts/a%25b", "/v1/orders/ord_42?x=1"} {
		r := serverRequest(t, target)
		allocs := testing.AllocsPerRun(100, func() { _ = instance(r) })
		assert.Zero(t, allocs, "instance(%q) allocations", target)
	}
}

// FuzzInstance parses arbitrary request targets as net/http does and
// checks that instance always gives a path-only URI reference that decodes
// to the path the server routed on.
func FuzzInstance(f *testing.F) {
	for _, s := range []string{"/v1/accounts/a%25b", "/a%2Fb", "/%C3%A9%22x", `/a"b`, "//evil/x", "/a%zz", "*", "/[::1]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, target string) {
		u, err := url.ParseRequestURI(target)
		if err != nil {
			return
		}
		got := instance(&http.Request{URL: u, RequestURI: target})
		if !pathReference.MatchString(got) {
			t.Fatalf("instance(%q) = %q, not a path-only URI reference", target, got)
		}
		ref, err := url.Parse(got)
		if err != nil || ref.Scheme != "" || ref.Host != "" || ref.RawQuery != "" || ref.Fragment != "" || ref.Opaque != "" {
			t.Fatalf("instance(%q) = %q parses as %#v, %v; want a path alone", target, got, ref, err)
		}
		dec, err := url.PathUnescape(got)
		if err != nil {
			t.Fatalf("instance(%q) = %q does not unescape: %v", target, got, err)
		}
		if dec != u.Path && dec != "/."+u.Path && dec != "./"+u.Path {
			t.Fatalf("instance(%q) = %q decodes to %q, want %q", target, got, dec, u.Path)
		}
		if strings.HasPrefix(got, "//") {
			t.Fatalf("instance(%q) = %q reads as a network-path reference", target, got)
		}
	})
}
