package client_test

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/client"
)

const nginx502 = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.27.0</center>\r\n</body>\r\n</html>\r\n"

// failing is a real net/http server answering each failure mode on its
// own path, counting the requests per path.
type failing struct {
	mu   sync.Mutex // guards hits
	hits map[string]int
	url  string
}

func newFailing(t *testing.T) *failing {
	t.Helper()
	f := &failing{hits: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	f.url = srv.URL
	return f
}

func (f *failing) Hits(path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits[path]
}

func (f *failing) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.hits[r.URL.Path]++
	f.mu.Unlock()
	w.Header().Set("X-Request-Id", "req-"+strings.TrimPrefix(r.URL.Path, "/"))
	switch r.URL.Path {
	case "/proxy-html":
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		io.WriteString(w, nginx502)
	case "/plain-text":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, "upstream connect error or disconnect/reset before headers. reset reason: overflow\n")
	case "/truncated-json":
		// Promise more than is sent, then hang up mid-body.
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Content-Length", "200")
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, `{"error":{"code":500,"status":"INTERNAL","message":"An internal`)
		w.(http.Flusher).Flush()
		hangUp(w, false)
	case "/reset":
		hangUp(w, true)
	case "/slow":
		<-r.Context().Done()
	case "/google-503":
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `{"error":{"code":503,"status":"UNAVAILABLE","message":"Down for maintenance.","details":[{"reason":"UNAVAILABLE"}]}}`)
	case "/problem-404":
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"type":"about:blank","title":"Not Found","status":404,"detail":"Order ord_9 not found.","instance":"/problem-404","code":"NOT_FOUND","request_id":"req-body","errors":[]}`)
	default:
		w.WriteHeader(http.StatusOK)
	}
}

// hangUp closes the connection under the handler; with reset, at once
// with an RST (SO_LINGER 0), before any response byte.
func hangUp(w http.ResponseWriter, reset bool) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(err)
	}
	if tcp, ok := conn.(*net.TCPConn); ok && reset {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
}

// TestRealServerFailures drives each failure mode of a real server through
// the Transport and Decode.
func TestRealServerFailures(t *testing.T) {
	srv := newFailing(t)
	cases := []struct {
		path     string
		attempts int
		errMatch string // a substring of the RoundTrip error; "" for a response
		want     client.Error
	}{
		{"/proxy-html", 3, "", client.Error{Status: 502, Code: "BAD_GATEWAY", Retryable: true, RequestID: "req-proxy-html",
			Excerpt: "<html> <head><title>502 Bad Gateway</title></head> <body> <center><h1>502 Bad Gateway</h1></center> <hr><center>nginx/1.27.0</center> </body> </html>"}},
		{"/plain-text", 3, "", client.Error{Status: 503, Code: "UNAVAILABLE", Retryable: true, RequestID: "req-plain-text",
			Excerpt: "upstream connect error or disconnect/reset before headers. reset reason: overflow"}},
		{"/truncated-json", 3, "", client.Error{Status: 500, Code: "INTERNAL", Retryable: true, RequestID: "req-truncated-json",
			Excerpt: `{"error":{"code":500,"status":"INTERNAL","message":"An internal`}},
		{"/google-503", 3, "", client.Error{Status: 503, Code: "UNAVAILABLE", Envelope: client.EnvelopeGoogle, Reason: "UNAVAILABLE",
			Message: "Down for maintenance.", Retryable: true, RequestID: "req-google-503", RetryAfter: time.Second, HasRetryAfter: true}},
		{"/problem-404", 1, "", client.Error{Status: 404, Code: "NOT_FOUND", Envelope: client.EnvelopeProblem,
			Message: "Order ord_9 not found.", RequestID: "req-body"}},
		{"/reset", 3, "/reset", client.Error{}},
		{"/slow", 2, "timeout awaiting response headers", client.Error{}},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			clk := newFakeClock()
			base := &http.Transport{ResponseHeaderTimeout: 20 * time.Millisecond}
			t.Cleanup(base.CloseIdleConnections)
			attempts := 3
			if tc.path == "/slow" {
				attempts = 2
			}
			tr := newTransport(t, clk, func(c *client.Config) { c.Base, c.MaxAttempts = base, attempts })
			hc := &http.Client{Transport: tr}
			resp, err := hc.Get(srv.url + tc.path)
			assert.Equal(t, tc.attempts, srv.Hits(tc.path), "GET %s: attempts", tc.path)
			if tc.errMatch != "" {
				require.Error(t, err, "GET %s = %v, want an error", tc.path, resp)
				assert.Contains(t, err.Error(), tc.errMatch)
				assert.Equal(t, client.StateClosed, tr.State(strings.TrimPrefix(srv.url, "http://")), "after %d failures", tc.attempts)
				return
			}
			require.NoError(t, err, "GET %s", tc.path)
			derr := client.Decoder{Now: clk.Now}.Decode(resp)
			var got *client.Error
			require.True(t, errors.As(derr, &got), "Decode(GET %s) = %v, want *client.Error", tc.path, derr)
			assert.Equal(t, &tc.want, got, "Decode(GET %s) = %+v, want %+v", tc.path, got, &tc.want)
		})
	}
}

// TestRealServerBreaker: connection resets from a real server open the
// circuit after five failures.
func TestRealServerBreaker(t *testing.T) {
	srv := newFailing(t)
	tr := newTransport(t, newFakeClock(), func(c *client.Config) { c.MaxAttempts = 1 })
	hc := &http.Client{Transport: tr}
	for i := range 5 {
		_, err := hc.Get(srv.url + "/reset")
		require.Error(t, err, "GET /reset %d", i+1)
	}
	_, err := hc.Get(srv.url + "/")
	assert.ErrorIs(t, err, client.ErrCircuitOpen, "GET / after five resets = %v, want ErrCircuitOpen", err)
	assert.Equal(t, 0, srv.Hits("/"), "the refused request reached the server")
}
