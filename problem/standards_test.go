package problem_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
