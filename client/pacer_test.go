package client_test

import (
	"context"
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

// limitedBase answers 200 with the RateLimit header that header() gives
// for the path, and records when each request arrived on the clock.
type limitedBase struct {
	clk    *fakeClock
	header func(path string) string

	mu   sync.Mutex // guards sent
	sent []string   // "path@+offset"
}

func (b *limitedBase) RoundTrip(r *http.Request) (*http.Response, error) {
	h := http.Header{}
	if v := b.header(r.URL.Path); v != "" {
		h.Set("RateLimit", v)
	}
	b.mu.Lock()
	b.sent = append(b.sent, r.URL.Host+r.URL.Path)
	b.mu.Unlock()
	return &http.Response{StatusCode: 200, Header: h, Body: io.NopCloser(strings.NewReader(""))}, nil
}

// TestPacing: an r=0 policy holds the next request to that host and
// policy for t seconds; other paths, policies and hosts go at once.
func TestPacing(t *testing.T) {
	headers := map[string]string{
		"/v1/reports":  `"sandbox";r=8;t=1, "reports";r=0;t=3`,
		"/v1/accounts": `"sandbox";r=7;t=1`,
		"/v1/orders":   `"sandbox";r=0;t=2`,
	}
	cases := []struct {
		name   string
		first  string // path of the request that reads the header
		second string // the next request
		held   time.Duration
	}{
		{"route policy holds its route", "/v1/reports", "/v1/reports", 3 * time.Second},
		{"route policy leaves other routes", "/v1/reports", "/v1/accounts", 0},
		{"route policy leaves a new path", "/v1/reports", "/v1/new", 0},
		{"key policy holds every route", "/v1/orders", "/v1/accounts", 2 * time.Second},
		{"key policy holds a new path", "/v1/orders", "/v1/new", 2 * time.Second},
		{"no exhausted policy", "/v1/accounts", "/v1/accounts", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clk := newFakeClock()
			base := &limitedBase{clk: clk, header: func(p string) string { return headers[p] }}
			var held []time.Duration
			tr := newTransport(t, clk, func(c *client.Config) {
				c.Base, c.Pacing = base, true
				c.OnAttempt = func(a client.Attempt) { held = append(held, a.Held) }
			})
			// Teach the pacer which policies each path has.
			for p := range headers {
				if p != tc.first {
					do(t, tr, newRequest(t, "GET", "http://api.test"+p, ""))
				}
			}
			do(t, tr, newRequest(t, "GET", "http://api.test"+tc.first, ""))
			before := clk.Now()
			do(t, tr, newRequest(t, "GET", "http://api.test"+tc.second, ""))
			assert.Equal(t, tc.held, clk.Now().Sub(before), "GET %s after %s: held %v, want %v", tc.second, tc.first, clk.Now().Sub(before), tc.held)
			assert.Equal(t, tc.held, held[len(held)-1], "Attempt.Held")
			do(t, tr, newRequest(t, "GET", "http://other.test"+tc.second, ""))
			assert.Equal(t, tc.held, clk.Now().Sub(before), "another host is not held")
		})
	}
}

func TestPacingLifts(t *testing.T) {
	clk := newFakeClock()
	header := `"sandbox";r=0;t=3`
	base := &limitedBase{clk: clk, header: func(string) string { return header }}
	tr := newTransport(t, clk, func(c *client.Config) { c.Base, c.Pacing = base, true })
	do(t, tr, newRequest(t, "GET", "http://api.test/a", ""))
	header = `"sandbox";r=5;t=1`
	clk.Advance(3 * time.Second)
	do(t, tr, newRequest(t, "GET", "http://api.test/a", ""))
	assert.Empty(t, clk.Sleeps(), "a hold that is over holds nothing")

	header = `"sandbox";r=0;t=3`
	do(t, tr, newRequest(t, "GET", "http://api.test/a", ""))
	header = "not a ; structured , field ,"
	do(t, tr, newRequest(t, "GET", "http://api.test/a", ""))
	assert.Equal(t, []time.Duration{3 * time.Second}, clk.Sleeps(), "held once")
	do(t, tr, newRequest(t, "GET", "http://api.test/a", ""))
	assert.Equal(t, []time.Duration{3 * time.Second}, clk.Sleeps(), "a malformed header changes nothing, and the hold is over")
}

func TestPacingOff(t *testing.T) {
	clk := newFakeClock()
	base := &limitedBase{clk: clk, header: func(string) string { return `"sandbox";r=0;t=3` }}
	tr := newTransport(t, clk, func(c *client.Config) { c.Base = base })
	do(t, tr, newRequest(t, "GET", "http://api.test/a", ""))
	do(t, tr, newRequest(t, "GET", "http://api.test/a", ""))
	assert.Empty(t, clk.Sleeps(), "without Config.Pacing nothing is held")
}

// TestPacingDeadline: a hold that would outlast the deadline fails at once
// instead of sleeping.
func TestPacingDeadline(t *testing.T) {
	clk := newFakeClock()
	base := &limitedBase{clk: clk, header: func(string) string { return `"sandbox";r=0;t=10` }}
	var attempts []client.Attempt
	tr := newTransport(t, clk, func(c *client.Config) {
		c.Base, c.Pacing = base, true
		c.OnAttempt = func(a client.Attempt) { attempts = append(attempts, a) }
	})
	do(t, tr, newRequest(t, "GET", "http://api.test/a", ""))
	ctx, cancel := context.WithDeadline(context.Background(), clk.Now().Add(5*time.Second))
	defer cancel()
	_, err := tr.RoundTrip(newRequest(t, "GET", "http://api.test/a", "").WithContext(ctx))
	assert.ErrorIs(t, err, client.ErrHeld, "RoundTrip = %v, want ErrHeld", err)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "RoundTrip = %v, want DeadlineExceeded", err)
	assert.Empty(t, clk.Sleeps(), "no sleep")
	require.Len(t, base.sent, 1, "the held request was not sent")
	assert.ErrorIs(t, attempts[len(attempts)-1].Err, client.ErrHeld, "the hook sees the hold")
}

// TestPacingCapped: a hold is capped at MaxRetryAfter, whatever t says.
func TestPacingCapped(t *testing.T) {
	clk := newFakeClock()
	base := &limitedBase{clk: clk, header: func(string) string { return `"sandbox";r=0;t=999999999999999` }}
	tr := newTransport(t, clk, func(c *client.Config) {
		c.Base, c.Pacing, c.MaxRetryAfter = base, true, 5*time.Second
	})
	do(t, tr, newRequest(t, "GET", "http://api.test/a", ""))
	do(t, tr, newRequest(t, "GET", "http://api.test/a", ""))
	assert.Equal(t, []time.Duration{5 * time.Second}, clk.Sleeps(), "held at most MaxRetryAfter")
}
