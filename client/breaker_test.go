package client_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/client"
)

// statusBase answers every request with the status status() gives at the
// time, and counts the requests it sees.
type statusBase struct {
	mu     sync.Mutex // guards status and calls
	status map[string]int
	calls  int
}

func (b *statusBase) set(host string, status int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.status == nil {
		b.status = map[string]int{}
	}
	b.status[host] = status
}

func (b *statusBase) Calls() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.calls
}

func (b *statusBase) RoundTrip(r *http.Request) (*http.Response, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls++
	return &http.Response{StatusCode: b.status[r.URL.Host], Header: http.Header{}, Body: io.NopCloser(strings.NewReader("")), Request: r}, nil
}

// once sends one request and returns the status, or 0 and the error.
func once(t *testing.T, tr *client.Transport, url string) (int, error) {
	t.Helper()
	resp, err := tr.RoundTrip(newRequest(t, "GET", url, ""))
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// TestBreakerTrace walks the breaker through five failures, the open
// period on virtual time and the recovery, and logs the trace.
func TestBreakerTrace(t *testing.T) {
	clk := newFakeClock()
	start := clk.Now()
	base := &statusBase{}
	base.set("api.test", 503)
	tr := newTransport(t, clk, func(c *client.Config) {
		c.Base, c.MaxAttempts = base, 1
		c.OnAttempt = func(a client.Attempt) {
			t.Logf("t=+%-3v attempt: status %d err %v -> breaker %s", clk.Now().Sub(start), a.Status, a.Err, a.Breaker)
		}
	})
	for i := 1; i <= 5; i++ {
		status, err := once(t, tr, "http://api.test/v1/x")
		require.NoError(t, err)
		assert.Equal(t, 503, status)
		want := client.StateClosed
		if i == 5 {
			want = client.StateOpen
		}
		assert.Equal(t, want, tr.State("api.test"), "State after failure %d", i)
		clk.Advance(time.Second)
	}
	openedAt := start.Add(4 * time.Second)

	_, err := once(t, tr, "http://api.test/v1/x")
	var open *client.CircuitOpenError
	require.ErrorAs(t, err, &open, "request while open = %v, want *CircuitOpenError", err)
	assert.ErrorIs(t, err, client.ErrCircuitOpen)
	assert.Equal(t, &client.CircuitOpenError{Host: "api.test", State: client.StateOpen, RetryAt: openedAt.Add(30 * time.Second)}, open)
	assert.Equal(t, 5, base.Calls(), "the refused request reached the host")
	t.Logf("t=+%-3v refused: %v", clk.Now().Sub(start), err)

	clk.Advance(openedAt.Add(30*time.Second).Sub(clk.Now()) - time.Nanosecond)
	assert.Equal(t, client.StateOpen, tr.State("api.test"), "State 1ns before the 30s are over")
	clk.Advance(time.Nanosecond)
	assert.Equal(t, client.StateHalfOpen, tr.State("api.test"), "State once the 30s are over")
	t.Logf("t=+%-3v state %s", clk.Now().Sub(start), tr.State("api.test"))

	base.set("api.test", 200)
	status, err := once(t, tr, "http://api.test/v1/x")
	require.NoError(t, err)
	assert.Equal(t, 200, status)
	assert.Equal(t, client.StateClosed, tr.State("api.test"), "State after a successful probe")
	t.Logf("t=+%-3v state %s", clk.Now().Sub(start), tr.State("api.test"))
}

func TestBreakerProbeFailureReopens(t *testing.T) {
	clk := newFakeClock()
	base := &statusBase{}
	base.set("api.test", 500)
	tr := newTransport(t, clk, func(c *client.Config) { c.Base, c.MaxAttempts = base, 1 })
	for range 5 {
		_, _ = once(t, tr, "http://api.test/")
	}
	clk.Advance(30 * time.Second)
	status, err := once(t, tr, "http://api.test/")
	require.NoError(t, err)
	assert.Equal(t, 500, status)
	assert.Equal(t, client.StateOpen, tr.State("api.test"), "State after a failed probe")
	_, err = once(t, tr, "http://api.test/")
	var open *client.CircuitOpenError
	require.ErrorAs(t, err, &open)
	assert.Equal(t, clk.Now().Add(30*time.Second), open.RetryAt, "a failed probe opens for another 30s")
}

// TestBreakerCounts checks what counts as a failure: 5xx, network errors
// and timeouts do; 4xx and 429 are successes; a cancelled request is
// neither.
func TestBreakerCounts(t *testing.T) {
	cases := []struct {
		name     string
		sequence []any // an int status, an error, or "cancel"
		want     client.State
	}{
		{"five 5xx", []any{500, 502, 503, 504, 500}, client.StateOpen},
		{"four 5xx", []any{500, 502, 503, 504}, client.StateClosed},
		{"network errors and timeouts", []any{errReset, &timeoutError{}, errReset, context.DeadlineExceeded, errReset}, client.StateOpen},
		{"a 4xx resets the count", []any{500, 500, 500, 500, 404, 500, 500, 500, 500}, client.StateClosed},
		{"a 429 resets the count", []any{500, 500, 500, 500, 429, 500}, client.StateClosed},
		{"4xx never open it", []any{400, 401, 403, 404, 409, 422, 429, 429}, client.StateClosed},
		{"cancelled counts as neither", []any{500, 500, 500, 500, "cancel", "cancel", 500}, client.StateOpen},
		{"cancelled does not open", []any{"cancel", "cancel", "cancel", "cancel", "cancel"}, client.StateClosed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var next any
			base := rtFunc(func(r *http.Request) (*http.Response, error) {
				switch v := next.(type) {
				case int:
					return &http.Response{StatusCode: v, Header: http.Header{}, Body: http.NoBody}, nil
				case error:
					return nil, v
				}
				return nil, r.Context().Err()
			})
			tr := newTransport(t, newFakeClock(), func(c *client.Config) { c.Base, c.MaxAttempts = base, 1 })
			for _, v := range tc.sequence {
				next = v
				ctx, cancel := context.WithCancel(context.Background())
				if v == "cancel" {
					cancel()
				}
				resp, err := tr.RoundTrip(newRequest(t, "GET", "http://api.test/", "").WithContext(ctx))
				if err == nil {
					resp.Body.Close()
				}
				cancel()
			}
			assert.Equal(t, tc.want, tr.State("api.test"), "State after %v", tc.sequence)
		})
	}
}

var errReset = errors.New("read tcp 127.0.0.1:1->127.0.0.1:2: read: connection reset by peer")

// TestBreakerProbeLimit: while half-open, only Probes requests are let
// through at once; the others fail fast.
func TestBreakerProbeLimit(t *testing.T) {
	clk := newFakeClock()
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	failing := true
	base := rtFunc(func(r *http.Request) (*http.Response, error) {
		if failing {
			return &http.Response{StatusCode: 503, Header: http.Header{}, Body: http.NoBody}, nil
		}
		entered <- struct{}{}
		<-release
		return &http.Response{StatusCode: 200, Header: http.Header{}, Body: http.NoBody}, nil
	})
	tr := newTransport(t, clk, func(c *client.Config) { c.Base, c.MaxAttempts = base, 1 })
	for range 5 {
		_, _ = once(t, tr, "http://api.test/")
	}
	failing = false
	clk.Advance(30 * time.Second)

	probe := make(chan int)
	go func() {
		resp, err := tr.RoundTrip(newRequest(t, "GET", "http://api.test/", ""))
		if err != nil {
			probe <- 0
			return
		}
		resp.Body.Close()
		probe <- resp.StatusCode
	}()
	<-entered
	_, err := once(t, tr, "http://api.test/")
	var open *client.CircuitOpenError
	require.ErrorAs(t, err, &open, "second request while the probe is in flight = %v, want *CircuitOpenError", err)
	assert.Equal(t, client.StateHalfOpen, open.State)
	close(release)
	assert.Equal(t, 200, <-probe, "the probe's status")
	assert.Equal(t, client.StateClosed, tr.State("api.test"))
	status, err := once(t, tr, "http://api.test/")
	require.NoError(t, err)
	assert.Equal(t, 200, status)
}

func TestBreakerPerHost(t *testing.T) {
	base := &statusBase{}
	base.set("a.test", 500)
	base.set("b.test", 200)
	tr := newTransport(t, newFakeClock(), func(c *client.Config) { c.Base, c.MaxAttempts = base, 1 })
	for range 5 {
		_, _ = once(t, tr, "http://a.test/")
	}
	_, err := once(t, tr, "http://A.TEST/")
	assert.ErrorIs(t, err, client.ErrCircuitOpen, "host names are case-insensitive")
	status, err := once(t, tr, "http://b.test/")
	assert.NoError(t, err, "another host's circuit")
	assert.Equal(t, 200, status)
}

// TestBreakerStopsRetries: a retry that the open circuit would refuse is
// not waited for; the last response is returned.
func TestBreakerStopsRetries(t *testing.T) {
	clk := newFakeClock()
	base := &statusBase{}
	base.set("api.test", 503)
	tr := newTransport(t, clk, func(c *client.Config) { c.Base, c.Breaker.Failures = base, 2 })
	status, err := once(t, tr, "http://api.test/")
	require.NoError(t, err)
	assert.Equal(t, 503, status)
	assert.Equal(t, 2, base.Calls(), "attempts: the second failure opens the circuit")
	assert.Equal(t, []time.Duration{time.Second}, clk.Sleeps(), "no wait for a refused retry")
}

func TestBreakerDisabled(t *testing.T) {
	base := &statusBase{}
	base.set("api.test", 500)
	tr := newTransport(t, newFakeClock(), func(c *client.Config) {
		c.Base, c.MaxAttempts, c.Breaker.Disabled = base, 1, true
	})
	for i := range 20 {
		_, err := once(t, tr, "http://api.test/")
		require.NoError(t, err, "request %d with the breaker disabled", i+1)
	}
	assert.Equal(t, client.StateClosed, tr.State("api.test"))
}

func TestStateString(t *testing.T) {
	for s, want := range map[client.State]string{client.StateClosed: "closed", client.StateOpen: "open",
		client.StateHalfOpen: "half-open", client.State(9): "State(9)"} {
		assert.Equal(t, want, s.String(), "State(%d).String()", s)
	}
}

// closeRecorder is a request body that records being closed.
type closeRecorder struct {
	io.Reader
	closed bool
}

func (c *closeRecorder) Close() error { c.closed = true; return nil }

// TestBreakerClosesRefusedBody: a request refused by the open circuit has
// its body closed, as a RoundTripper must.
func TestBreakerClosesRefusedBody(t *testing.T) {
	base := &statusBase{}
	base.set("api.test", 500)
	tr := newTransport(t, newFakeClock(), func(c *client.Config) { c.Base, c.MaxAttempts = base, 1 })
	for range 5 {
		_, _ = once(t, tr, "http://api.test/")
	}
	body := &closeRecorder{Reader: strings.NewReader("{}")}
	req, err := http.NewRequest("PUT", "http://api.test/", body)
	require.NoError(t, err)
	_, err = tr.RoundTrip(req)
	require.ErrorIs(t, err, client.ErrCircuitOpen)
	assert.True(t, body.closed, "the refused request's body is still open")
}
