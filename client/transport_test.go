package client_test

import (
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/catalog"
	"github.com/faultline-go/faultline/client"
	"github.com/faultline-go/faultline/client/clienttest"
)

func TestTransportStatuses(t *testing.T) {
	cases := []struct {
		status   int
		attempts int
	}{
		{429, 2}, {500, 2}, {502, 2}, {503, 2}, {504, 2},
		{400, 1}, {401, 1}, {403, 1}, {404, 1}, {405, 1}, {409, 1}, {413, 1}, {422, 1}, {501, 1},
	}
	for _, tc := range cases {
		t.Run(strconv.Itoa(tc.status), func(t *testing.T) {
			srv := newScripted(t, reply{status: tc.status, body: `{"code":"X","message":"m"}`}, reply{status: 200, body: bodyOK})
			clk := newFakeClock()
			tr := newTransport(t, clk, nil)
			resp, _ := do(t, tr, newRequest(t, "GET", srv.url, ""))
			assert.Equal(t, tc.attempts, srv.Requests(), "GET answered %d: %d attempts, want %d", tc.status, srv.Requests(), tc.attempts)
			if tc.attempts == 2 {
				assert.Equal(t, 200, resp.StatusCode)
				assert.Equal(t, []time.Duration{time.Second}, clk.Sleeps(), "waits before the retry")
			} else {
				assert.Equal(t, tc.status, resp.StatusCode)
				assert.Empty(t, clk.Sleeps())
			}
		})
	}
}

func TestTransportBackoff(t *testing.T) {
	cases := []struct {
		name  string
		cfg   client.Config
		waits []time.Duration
	}{
		{"defaults: 3 attempts, 1s then 2s", client.Config{}, []time.Duration{time.Second, 2 * time.Second}},
		{"5 attempts capped at 3s", client.Config{MaxAttempts: 5, MaxDelay: 3 * time.Second},
			[]time.Duration{time.Second, 2 * time.Second, 3 * time.Second, 3 * time.Second}},
		{"base 100ms", client.Config{MaxAttempts: 4, BaseDelay: 100 * time.Millisecond},
			[]time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond}},
		{"one attempt", client.Config{MaxAttempts: 1}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newScripted(t, reply{status: 503, body: bodyUnavailable})
			clk := newFakeClock()
			var ceilings []time.Duration
			tr := newTransport(t, clk, func(c *client.Config) {
				*c = tc.cfg
				c.Clock, c.Breaker.Disabled = clk, true
				c.Jitter = func(d time.Duration) time.Duration { ceilings = append(ceilings, d); return d }
			})
			resp, body := do(t, tr, newRequest(t, "GET", srv.url, ""))
			assert.Equal(t, 503, resp.StatusCode, "after the last attempt, the last response")
			assert.Equal(t, bodyUnavailable, body, "the last response's body, whole")
			assert.Equal(t, len(tc.waits)+1, srv.Requests(), "attempts")
			assert.Equal(t, tc.waits, clk.Sleeps(), "waits")
			assert.Equal(t, tc.waits, ceilings, "jitter ceilings")
		})
	}
}

// TestTransportFullJitter checks the default jitter stays in [0, ceiling]
// and varies.
func TestTransportFullJitter(t *testing.T) {
	srv := newScripted(t, reply{status: 500})
	clk := newFakeClock()
	tr, err := client.NewTransport(client.Config{Clock: clk, MaxAttempts: 2, Breaker: client.BreakerConfig{Disabled: true}})
	require.NoError(t, err)
	for range 50 {
		resp, _ := do(t, tr, newRequest(t, "GET", srv.url, ""))
		assert.Equal(t, 500, resp.StatusCode)
	}
	seen := map[time.Duration]bool{}
	for _, d := range clk.Sleeps() {
		assert.True(t, d >= 0 && d <= time.Second, "jittered wait %v outside [0, 1s]", d)
		seen[d] = true
	}
	assert.Greater(t, len(seen), 40, "50 jittered waits took %d distinct values", len(seen))
}

func TestTransportRetryAfter(t *testing.T) {
	start := newFakeClock().Now()
	cases := []struct {
		name, value string
		cfg         client.Config
		want        time.Duration
	}{
		{"seconds", "7", client.Config{}, 7 * time.Second},
		{"zero", "0", client.Config{}, 0},
		{"negative floors at zero", "-3", client.Config{}, 0},
		{"http-date", start.Add(10 * time.Second).UTC().Format(http.TimeFormat), client.Config{}, 10 * time.Second},
		{"capped by default", "3600", client.Config{}, time.Minute},
		{"capped by config", "30", client.Config{MaxRetryAfter: 5 * time.Second}, 5 * time.Second},
		{"malformed falls back to backoff", "soon", client.Config{}, time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newScripted(t, reply{status: 429, header: map[string]string{"Retry-After": tc.value}, body: bodyLimited},
				reply{status: 200, body: bodyOK})
			clk := clienttest.NewClock(start)
			tr := newTransport(t, clk, func(c *client.Config) {
				*c = tc.cfg
				c.Clock, c.Jitter = clk, maxJitter
			})
			resp, _ := do(t, tr, newRequest(t, "GET", srv.url, ""))
			assert.Equal(t, 200, resp.StatusCode)
			assert.Equal(t, 2, srv.Requests(), "attempts")
			got := clk.Now().Sub(start)
			assert.Equal(t, tc.want, got, "wait after Retry-After %q = %v, want %v", tc.value, got, tc.want)
		})
	}
}

func TestTransportIdempotency(t *testing.T) {
	cases := []struct {
		name     string
		method   string
		key      string
		body     io.Reader
		attempts int
	}{
		{"GET", "GET", "", nil, 3},
		{"HEAD", "HEAD", "", nil, 3},
		{"PUT replayed", "PUT", "", strings.NewReader(`{"q":1}`), 3},
		{"DELETE", "DELETE", "", nil, 3},
		{"POST without key", "POST", "", strings.NewReader(`{"q":1}`), 1},
		{"PATCH without key", "PATCH", "", strings.NewReader(`{"q":1}`), 1},
		{"POST with Idempotency-Key", "POST", "k-1", strings.NewReader(`{"q":1}`), 3},
		{"PUT body without GetBody", "PUT", "", io.MultiReader(strings.NewReader(`{"q":1}`)), 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newScripted(t, reply{status: 503, body: bodyUnavailable})
			tr := newTransport(t, newFakeClock(), nil)
			req, err := http.NewRequest(tc.method, srv.url, tc.body)
			require.NoError(t, err)
			if tc.key != "" {
				req.Header.Set(client.HeaderIdempotencyKey, tc.key)
			}
			resp, _ := do(t, tr, req)
			assert.Equal(t, 503, resp.StatusCode)
			assert.Equal(t, tc.attempts, srv.Requests(), "%s: attempts", tc.name)
			if tc.body != nil && tc.method != "HEAD" {
				for i, b := range srv.Bodies() {
					assert.Equal(t, `{"q":1}`, b, "%s: body of attempt %d", tc.name, i+1)
				}
			}
		})
	}
}

func TestTransportDeadline(t *testing.T) {
	t.Run("backoff past the deadline is not taken", func(t *testing.T) {
		srv := newScripted(t, reply{status: 503, body: bodyUnavailable})
		clk := newFakeClock()
		tr := newTransport(t, clk, nil)
		ctx, cancel := context.WithDeadline(context.Background(), clk.Now().Add(2500*time.Millisecond))
		defer cancel()
		resp, body := do(t, tr, newRequest(t, "GET", srv.url, "").WithContext(ctx))
		assert.Equal(t, 503, resp.StatusCode, "the last response, not an error")
		assert.Equal(t, bodyUnavailable, body)
		assert.Equal(t, []time.Duration{time.Second}, clk.Sleeps(), "waits: 1s fits the 2.5s deadline, 2s more does not")
		assert.Equal(t, 2, srv.Requests())
	})
	t.Run("Retry-After past the deadline is not taken", func(t *testing.T) {
		srv := newScripted(t, reply{status: 429, header: map[string]string{"Retry-After": "5"}, body: bodyLimited})
		clk := newFakeClock()
		tr := newTransport(t, clk, nil)
		ctx, cancel := context.WithDeadline(context.Background(), clk.Now().Add(3*time.Second))
		defer cancel()
		resp, _ := do(t, tr, newRequest(t, "GET", srv.url, "").WithContext(ctx))
		assert.Equal(t, 429, resp.StatusCode)
		assert.Empty(t, clk.Sleeps(), "no wait past the deadline")
		assert.Equal(t, 1, srv.Requests())
	})
	t.Run("cancelled while waiting", func(t *testing.T) {
		srv := newScripted(t, reply{status: 503, body: bodyUnavailable})
		ctx, cancel := context.WithCancel(context.Background())
		tr := newTransport(t, newFakeClock(), func(c *client.Config) {
			c.OnAttempt = func(client.Attempt) { cancel() }
		})
		resp, err := tr.RoundTrip(newRequest(t, "GET", srv.url, "").WithContext(ctx))
		assert.ErrorIs(t, err, context.Canceled, "RoundTrip = %v, %v, want context.Canceled", resp, err)
		assert.Equal(t, 1, srv.Requests())
	})
}

// TestTransportCatalog: with the server's catalog, a code's retryable flag
// decides, not the status.
func TestTransportCatalog(t *testing.T) {
	cat := client.CatalogOf(catalog.MustNew("BLUM",
		catalog.Code{Name: "LEDGER_LOCKED", Status: 409, Retryable: true},
		catalog.Code{Name: "SHUT_DOWN", Status: 503}))
	cases := []struct {
		name, body string
		status     int
		catalog    *client.Catalog
		attempts   int
	}{
		{"retryable 409 with catalog", `{"code":"BLUM-409-002","message":"Locked."}`, 409, cat, 3},
		{"retryable 409 without catalog", `{"code":"BLUM-409-002","message":"Locked."}`, 409, nil, 1},
		{"final 503 with catalog", `{"code":"BLUM-503-002","message":"Gone."}`, 503, cat, 1},
		{"final 503 without catalog", `{"code":"BLUM-503-002","message":"Gone."}`, 503, nil, 3},
		{"unknown code keeps the status rule", `{"code":"BLUM-503-099","message":"?"}`, 503, cat, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newScripted(t, reply{status: tc.status, body: tc.body})
			tr := newTransport(t, newFakeClock(), func(c *client.Config) { c.Catalog = tc.catalog })
			resp, body := do(t, tr, newRequest(t, "GET", srv.url, ""))
			assert.Equal(t, tc.attempts, srv.Requests(), "attempts")
			assert.Equal(t, tc.body, body, "the caller reads the whole body")
			assert.Equal(t, tc.status, resp.StatusCode)
		})
	}
}

func TestTransportNetworkErrors(t *testing.T) {
	reset := &netError{syscall.ECONNRESET}
	cases := []struct {
		name     string
		err      error
		attempts int
	}{
		{"connection reset", fmt.Errorf("read tcp: %w", reset), 3},
		{"timeout", &timeoutError{}, 3},
		{"unexpected EOF", io.ErrUnexpectedEOF, 3},
		{"unknown authority", fmt.Errorf("tls: %w", x509.UnknownAuthorityError{}), 1},
		{"cancelled", context.Canceled, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := 0
			base := rtFunc(func(*http.Request) (*http.Response, error) { n++; return nil, tc.err })
			tr := newTransport(t, newFakeClock(), func(c *client.Config) { c.Base = base })
			_, err := tr.RoundTrip(newRequest(t, "GET", "http://api.test/x", ""))
			assert.ErrorIs(t, err, tc.err, "RoundTrip = %v, want %v", err, tc.err)
			assert.Equal(t, tc.attempts, n, "attempts")
		})
	}
}

type netError struct{ errno syscall.Errno }

func (e *netError) Error() string { return e.errno.Error() }
func (e *netError) Unwrap() error { return e.errno }

type timeoutError struct{}

func (*timeoutError) Error() string   { return "i/o timeout" }
func (*timeoutError) Timeout() bool   { return true }
func (*timeoutError) Temporary() bool { return true }

func TestTransportHook(t *testing.T) {
	srv := newScripted(t,
		reply{status: 503, body: bodyUnavailable},
		reply{status: 429, header: map[string]string{"Retry-After": "2"}, body: bodyLimited},
		reply{status: 200, body: bodyOK})
	var got []client.Attempt
	tr := newTransport(t, newFakeClock(), func(c *client.Config) {
		c.OnAttempt = func(a client.Attempt) { got = append(got, a) }
	})
	do(t, tr, newRequest(t, "GET", srv.url+"/v1/x", ""))
	host := strings.TrimPrefix(srv.url, "http://")
	want := []client.Attempt{
		{Method: "GET", Host: host, Attempt: 1, Status: 503, Code: "UNAVAILABLE", Wait: time.Second, Retry: true, Breaker: client.StateClosed},
		{Method: "GET", Host: host, Attempt: 2, Status: 429, Code: "RESOURCE_EXHAUSTED", Wait: 2 * time.Second, Retry: true, Breaker: client.StateClosed},
		{Method: "GET", Host: host, Attempt: 3, Status: 200, Breaker: client.StateClosed},
	}
	assert.Equal(t, want, got, "attempts reported")
}

func TestNewTransportValidates(t *testing.T) {
	cases := []struct {
		name string
		cfg  client.Config
	}{
		{"negative attempts", client.Config{MaxAttempts: -1}},
		{"negative base", client.Config{BaseDelay: -time.Second}},
		{"negative cap", client.Config{MaxDelay: -1}},
		{"negative retry-after cap", client.Config{MaxRetryAfter: -1}},
		{"negative body", client.Config{MaxBody: -1}},
		{"negative failures", client.Config{Breaker: client.BreakerConfig{Failures: -5}}},
		{"negative open period", client.Config{Breaker: client.BreakerConfig{OpenFor: -time.Second}}},
		{"negative probes", client.Config{Breaker: client.BreakerConfig{Probes: -1}}},
		{"base above cap", client.Config{BaseDelay: time.Minute, MaxDelay: time.Second}},
	}
	for _, tc := range cases {
		_, err := client.NewTransport(tc.cfg)
		assert.ErrorIs(t, err, client.ErrInvalidConfig, "NewTransport(%s) = %v, want ErrInvalidConfig", tc.name, err)
	}
	_, err := client.NewTransport(client.Config{})
	assert.NoError(t, err, "NewTransport(zero Config)")
}

// TestTransportHugeDelays: backoff near the largest duration neither
// overflows nor panics.
func TestTransportHugeDelays(t *testing.T) {
	srv := newScripted(t, reply{status: 503})
	clk := newFakeClock()
	huge := time.Duration(1<<63 - 1)
	tr, err := client.NewTransport(client.Config{Clock: clk, MaxAttempts: 6, BaseDelay: huge / 3, MaxDelay: huge,
		Breaker: client.BreakerConfig{Disabled: true}})
	require.NoError(t, err)
	resp, _ := do(t, tr, newRequest(t, "GET", srv.url, ""))
	assert.Equal(t, 503, resp.StatusCode)
	for _, d := range clk.Sleeps() {
		assert.True(t, d >= 0 && d <= huge, "wait %v out of range", d)
	}
}
