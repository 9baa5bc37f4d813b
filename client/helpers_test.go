package client_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/client"
	"github.com/faultline-go/faultline/client/clienttest"
)

// fakeClock is the virtual clock of these tests.
type fakeClock = clienttest.Clock

// newFakeClock starts at the real time, so that request deadlines taken
// from the real clock lie ahead of it, in whole seconds, so that an
// HTTP-date is exact.
func newFakeClock() *fakeClock { return clienttest.NewClock(time.Now().Truncate(time.Second)) }

// reply is one scripted answer.
type reply struct {
	status int
	header map[string]string
	body   string
}

// scripted is a server answering each request with the next reply, the
// last one again once they run out, and recording what it was sent.
type scripted struct {
	mu      sync.Mutex // guards replies, n and bodies
	replies []reply
	n       int
	bodies  []string
	url     string
}

func newScripted(t *testing.T, replies ...reply) *scripted {
	t.Helper()
	s := &scripted{replies: replies}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	s.url = srv.URL
	return s
}

func (s *scripted) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	rp := s.replies[min(s.n, len(s.replies)-1)]
	s.n++
	s.bodies = append(s.bodies, string(body))
	s.mu.Unlock()
	for k, v := range rp.header {
		w.Header().Set(k, v)
	}
	if rp.body != "" && w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
	}
	w.WriteHeader(rp.status)
	_, _ = io.WriteString(w, rp.body)
}

// Requests returns how many requests arrived.
func (s *scripted) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

func (s *scripted) Bodies() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.bodies...)
}

// maxJitter makes backoff deterministic: always the ceiling.
func maxJitter(d time.Duration) time.Duration { return d }

// newTransport builds a transport on clk with the ceiling as jitter,
// after edit adjusts the config.
func newTransport(t *testing.T, clk *fakeClock, edit func(*client.Config)) *client.Transport {
	t.Helper()
	cfg := client.Config{Clock: clk, Jitter: maxJitter}
	if edit != nil {
		edit(&cfg)
	}
	tr, err := client.NewTransport(cfg)
	require.NoError(t, err, "NewTransport(%+v) = %v", cfg, err)
	return tr
}

// do sends method to url through tr and returns the response with its
// body read.
func do(t *testing.T, tr http.RoundTripper, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := tr.RoundTrip(req)
	require.NoError(t, err, "RoundTrip(%s %s) = %v", req.Method, req.URL, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(body)
}

func newRequest(t *testing.T, method, url, body string) *http.Request {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	require.NoError(t, err)
	return req
}

// rtFunc is an http.RoundTripper from a function.
type rtFunc func(*http.Request) (*http.Response, error)

func (f rtFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

const (
	bodyUnavailable = `{"error":{"code":503,"status":"UNAVAILABLE","message":"Service temporarily unavailable.","details":[{"reason":"UNAVAILABLE"}]}}`
	bodyLimited     = `{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","message":"Rate limit exceeded.","details":[{"reason":"RESOURCE_EXHAUSTED"}]}}`
	bodyOK          = `{"ok":true}`
)
