package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/catalog"
	"github.com/faultline-go/faultline/client"
	"github.com/faultline-go/faultline/client/clienttest"
	"github.com/faultline-go/faultline/problem"
	"github.com/faultline-go/faultline/ratelimit"
)

// clientClock is a virtual client.Clock that the demo's rate limit store
// reads too, so that a wait the client takes refills the server's buckets.
type clientClock = clienttest.Clock

func newClientClock() *clientClock { return clienttest.NewClock(time.Now().Truncate(time.Second)) }

// clientStore decides the demo's rate limits on the virtual clock.
type clientStore struct {
	*ratelimit.MemoryStore
	clk *clientClock
}

func (s clientStore) Take(_ context.Context, checks []ratelimit.Check, res []ratelimit.Result) (bool, error) {
	return s.TakeAt(s.clk.Now(), checks, res)
}

// startOnClock serves the demo with its real limits (rate as given) on clk.
func startOnClock(t *testing.T, envelope string, clk *clientClock, edit func(*serverConfig)) *testServer {
	t.Helper()
	mem := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{})
	t.Cleanup(func() { _ = mem.Close() })
	return startServerWith(t, envelope, withDomain(func(cfg *serverConfig) {
		cfg.Store = clientStore{mem, clk}
		if edit != nil {
			edit(cfg)
		}
	}))
}

// clientCatalog is the demo's catalog as a client knows it.
func clientCatalog(t *testing.T) *client.Catalog {
	t.Helper()
	cat, err := catalog.New("BLUM", catalog.Code{Name: DuplicateOrder, Status: http.StatusConflict, Flat: "BLUM-409-002"})
	require.NoError(t, err)
	return client.CatalogOf(cat)
}

// decodeDemo sends req to the demo and decodes the error it answers.
func decodeDemo(t *testing.T, s *testServer, d client.Decoder, req *http.Request) (*client.Error, *http.Response) {
	t.Helper()
	resp, err := s.client.Do(req)
	require.NoError(t, err, "%s %s", req.Method, req.URL.Path)
	derr := d.Decode(resp)
	var e *client.Error
	require.True(t, errors.As(derr, &e), "Decode(%s %s) = %v, want *client.Error", req.Method, req.URL.Path, derr)
	return e, resp
}

// TestClientDecodesDemo decodes every kind of failure the demo answers,
// in every envelope the client reads, and checks the request id and exc_ id against the
// server's log.
func TestClientDecodesDemo(t *testing.T) {
	cases := []struct {
		name               string
		method, path, body string
		header             map[string]string
		status             int
		code               code
		fields             []string // not in the flat envelope, which has no details
		retryable, exc     bool
	}{
		{name: "not found", method: "GET", path: "/v1/accounts/acc_2", status: 404, code: codeNotFound},
		{name: "unknown path", method: "GET", path: "/v1/nope", status: 404, code: codeNotFound},
		{name: "missing field", method: "POST", path: "/v1/orders", body: `{"quantity":5}`, status: 400, code: codeMissingField, fields: []string{"symbol"}},
		{name: "invalid format", method: "POST", path: "/v1/orders", body: `{"symbol":5,"quantity":1}`, status: 400, code: codeInvalidFormat, fields: []string{"symbol"}},
		{name: "two fields", method: "POST", path: "/v1/orders", body: `{}`, status: 400, code: codeInvalidArgument, fields: []string{"symbol", "quantity"}},
		{name: "business rule", method: "POST", path: "/v1/orders", body: `{"symbol":"AAPL","quantity":1000001}`, status: 422, code: codeFailedPrecond, fields: []string{"quantity"}},
		{name: "unauthenticated", method: "GET", path: "/v1/accounts/acc_1", header: map[string]string{"Authorization": ""}, status: 401, code: codeMissingAuth},
		{name: "wrong secret", method: "GET", path: "/v1/accounts/acc_1", header: map[string]string{"Authorization": basic("demo-key", "x")}, status: 401, code: codeInvalidCreds},
		{name: "method not allowed", method: "DELETE", path: "/v1/orders", status: 405, code: codeMethodNotAllowed},
		{name: "unsupported media type", method: "POST", path: "/v1/orders", body: `{}`, header: map[string]string{"Content-Type": "text/plain"}, status: 415, code: codeUnsupportedMedia},
		{name: "sanitized error", method: "GET", path: "/v1/fail", status: 500, code: codeInternal, retryable: true, exc: true},
		{name: "panic", method: "GET", path: "/v1/panic", status: 500, code: codeInternal, retryable: true, exc: true},
		{name: "timeout", method: "GET", path: "/v1/slow?ms=500", status: 504, code: codeDeadlineExceeded, retryable: true},
	}
	for _, envelope := range clientEnvelopes {
		t.Run(envelope, func(t *testing.T) {
			t.Parallel()
			s := startDemo(t, envelope, false)
			d := client.Decoder{Catalog: clientCatalog(t)}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					e, resp := decodeDemo(t, s, d, s.request(t, tc.method, tc.path, tc.body, tc.header))
					where := envelope + " " + tc.method + " " + tc.path
					assert.Equal(t, tc.status, e.Status, "%s: Status", where)
					assert.Equal(t, tc.code.name, e.Code, "%s: Code = %q, want %q", where, e.Code, tc.code.name)
					assert.Equal(t, tc.code.flat, e.Flat, "%s: Flat = %q, want %q", where, e.Flat, tc.code.flat)
					assert.Equal(t, envelope, e.Envelope, "%s: Envelope", where)
					assert.NotEmpty(t, e.Message, "%s: Message", where)
					assert.Equal(t, tc.retryable, e.Retryable, "%s: Retryable", where)
					assert.Equal(t, resp.Header.Get(problem.HeaderRequestID), e.RequestID, "%s: RequestID, want the X-Request-Id header", where)
					if envelope != problem.EnvelopeFlat {
						assert.Equal(t, tc.fields, fieldsOf(e), "%s: violated fields", where)
					}
					if !tc.exc {
						assert.Empty(t, e.ExcID, "%s: ExcID", where)
						return
					}
					assert.Regexp(t, "^"+excIDPattern.String()+"$", e.ExcID, "%s: ExcID", where)
					rec := s.logs.find(t, "exc_id", e.ExcID)
					require.NotNil(t, rec, "%s: no log record has exc_id %s", where, e.ExcID)
					assert.Equal(t, e.RequestID, rec["request_id"], "%s: the log record of %s has another request id", where, e.ExcID)
				})
			}
			t.Run("duplicate order", func(t *testing.T) {
				order := `{"client_order_id":"co_dup","symbol":"AAPL","quantity":5}`
				s.do(t, "POST", "/v1/orders", order, nil)
				e, _ := decodeDemo(t, s, d, s.request(t, "POST", "/v1/orders", order, nil))
				assert.Equal(t, 409, e.Status)
				assert.Equal(t, "DUPLICATE_ORDER", e.Code, "%s: Code with the catalog", envelope)
				assert.Equal(t, "BLUM-409-002", e.Flat, "%s: Flat with the catalog", envelope)
				assert.False(t, e.Retryable)
			})
		})
	}
}

func fieldsOf(e *client.Error) []string {
	var out []string
	for _, v := range e.Violations {
		out = append(out, v.Field)
	}
	return out
}

// TestClientDecodesDemoLimits decodes the demo's 429 and maintenance 503
// in every envelope the client reads: Retry-After and, where the envelope has it, the
// policy.
func TestClientDecodesDemoLimits(t *testing.T) {
	for _, envelope := range clientEnvelopes {
		t.Run(envelope, func(t *testing.T) {
			t.Parallel()
			s := startLimited(t, envelope, withDomain(func(cfg *serverConfig) { cfg.Rate = 1 }))
			s.do(t, "GET", "/v1/accounts/acc_1", "", nil)
			e, _ := decodeDemo(t, s, client.Decoder{}, s.request(t, "GET", "/v1/accounts/acc_1", "", nil))
			assert.Equal(t, 429, e.Status)
			assert.Equal(t, "RESOURCE_EXHAUSTED", e.Code, "%s 429: Code", envelope)
			assert.True(t, e.Retryable, "%s 429: Retryable", envelope)
			assert.True(t, e.HasRetryAfter, "%s 429: HasRetryAfter", envelope)
			assert.Equal(t, time.Second, e.RetryAfter, "%s 429: RetryAfter", envelope)
			if envelope != problem.EnvelopeFlat {
				assert.Equal(t, "sandbox", e.Metadata["policy"], "%s 429: Metadata[policy]", envelope)
			}

			m := startDemo(t, envelope, true)
			e, _ = decodeDemo(t, m, client.Decoder{}, m.request(t, "GET", "/v1/accounts/acc_1", "", nil))
			assert.Equal(t, "UNAVAILABLE", e.Code, "%s maintenance: Code", envelope)
			assert.Equal(t, time.Minute, e.RetryAfter, "%s maintenance: RetryAfter", envelope)
			assert.True(t, e.Retryable)
		})
	}
}

// attempts records what the transport's hook is told.
type attempts struct {
	mu   sync.Mutex // guards list
	list []client.Attempt
}

func (a *attempts) add(at client.Attempt) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.list = append(a.list, at)
}

func (a *attempts) summary() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, at := range a.list {
		s := http.StatusText(at.Status)
		if at.Code != "" {
			s += " " + at.Code
		}
		if at.Held > 0 {
			s = "held " + at.Held.String() + ", " + s
		}
		if at.Retry {
			s += ", retry in " + at.Wait.String()
		}
		out = append(out, s)
	}
	return out
}

// demoTransport returns a transport to s on clk, recording attempts.
func demoTransport(t *testing.T, s *testServer, clk *clientClock, edit func(*client.Config)) (*http.Client, *attempts) {
	t.Helper()
	rec := &attempts{}
	cfg := client.Config{Base: s.client.Transport, Clock: clk, Jitter: func(d time.Duration) time.Duration { return d },
		OnAttempt: rec.add}
	if edit != nil {
		edit(&cfg)
	}
	tr, err := client.NewTransport(cfg)
	require.NoError(t, err)
	return &http.Client{Transport: tr}, rec
}

// TestClientRetriesDemo drives the transport against the demo on virtual
// time: a 429 is retried after its Retry-After and succeeds, a sanitized
// 500 is retried with backoff, a validation error is not retried, and
// pacing holds a request instead of sending it into a 429.
func TestClientRetriesDemo(t *testing.T) {
	for _, envelope := range clientEnvelopes {
		t.Run(envelope, func(t *testing.T) {
			t.Parallel()
			t.Run("429 then success", func(t *testing.T) {
				clk := newClientClock()
				s := startOnClock(t, envelope, clk, func(cfg *serverConfig) { cfg.Rate = 1 })
				hc, rec := demoTransport(t, s, clk, nil)
				s.send(t, s.request(t, "GET", "/v1/accounts/acc_1", "", nil))
				resp, _ := sendVia(t, hc, s.request(t, "GET", "/v1/accounts/acc_1", "", nil))
				assert.Equal(t, 200, resp.StatusCode)
				assert.Equal(t, []string{"Too Many Requests RESOURCE_EXHAUSTED, retry in 1s", "OK"}, rec.summary())
			})
			t.Run("sanitized 500 retried with backoff", func(t *testing.T) {
				clk := newClientClock()
				s := startOnClock(t, envelope, clk, nil)
				hc, rec := demoTransport(t, s, clk, nil)
				resp, body := sendVia(t, hc, s.request(t, "GET", "/v1/fail", "", nil))
				assert.Equal(t, 500, resp.StatusCode)
				assert.Equal(t, []string{"Internal Server Error INTERNAL, retry in 1s", "Internal Server Error INTERNAL, retry in 2s",
					"Internal Server Error INTERNAL"}, rec.summary())
				assert.Equal(t, []time.Duration{time.Second, 2 * time.Second}, clk.Sleeps())
				assert.Regexp(t, excIDPattern, string(body), "the caller reads the last body whole")
			})
			t.Run("validation error not retried", func(t *testing.T) {
				clk := newClientClock()
				s := startOnClock(t, envelope, clk, nil)
				hc, rec := demoTransport(t, s, clk, nil)
				req := s.request(t, "POST", "/v1/orders", `{}`, map[string]string{client.HeaderIdempotencyKey: "k-1"})
				resp, _ := sendVia(t, hc, req)
				assert.Equal(t, 400, resp.StatusCode)
				assert.Equal(t, []string{"Bad Request INVALID_ARGUMENT"}, rec.summary())
			})
			t.Run("pacing holds instead of a 429", func(t *testing.T) {
				clk := newClientClock()
				s := startOnClock(t, envelope, clk, nil)
				hc, rec := demoTransport(t, s, clk, func(c *client.Config) { c.Pacing = true })
				for range 3 {
					resp, _ := sendVia(t, hc, s.request(t, "GET", "/v1/reports", "", nil))
					assert.Equal(t, 200, resp.StatusCode)
				}
				assert.Equal(t, []string{"OK", "OK", "held 1s, OK"}, rec.summary(), "the third request within a second")
			})
			t.Run("maintenance opens the circuit", func(t *testing.T) {
				clk := newClientClock()
				s := startDemo(t, envelope, true)
				hc, _ := demoTransport(t, s, clk, func(c *client.Config) { c.MaxAttempts = 1 })
				for range 5 {
					resp, _ := sendVia(t, hc, s.request(t, "GET", "/v1/accounts/acc_1", "", nil))
					assert.Equal(t, 503, resp.StatusCode)
				}
				_, err := hc.Do(s.request(t, "GET", "/v1/accounts/acc_1", "", nil))
				var open *client.CircuitOpenError
				require.ErrorAs(t, err, &open, "the sixth request = %v, want *CircuitOpenError", err)
				assert.Equal(t, clk.Now().Add(30*time.Second), open.RetryAt)
			})
		})
	}
}

// sendVia performs req through hc and returns the response with its body
// read.
func sendVia(t *testing.T, hc *http.Client, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := hc.Do(req)
	require.NoError(t, err, "%s %s: %v", req.Method, req.URL.Path, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err, "%s %s: reading the body", req.Method, req.URL.Path)
	return resp, body
}

// TestClientRealRetryAfter measures, on the real clock, the wait the
// transport takes after a real 429 from the demo against its Retry-After.
func TestClientRealRetryAfter(t *testing.T) {
	// A store reading the system clock on every decision: the default's
	// coarse clock may lag under load and refuse the retry too.
	mem := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{Resolution: -1})
	t.Cleanup(func() { _ = mem.Close() })
	s := startServerWith(t, problem.EnvelopeGoogle, func(cfg *serverConfig) { cfg.Rate, cfg.Store = 1, mem })
	inner := s.client.Transport
	var (
		mu       sync.Mutex // guards answered and sent
		answered []time.Time
		sent     []time.Time
	)
	base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		sent = append(sent, time.Now())
		mu.Unlock()
		resp, err := inner.RoundTrip(r)
		mu.Lock()
		answered = append(answered, time.Now())
		mu.Unlock()
		return resp, err
	})
	rec := &attempts{}
	tr, err := client.NewTransport(client.Config{Base: base, OnAttempt: rec.add})
	require.NoError(t, err)
	hc := &http.Client{Transport: tr}

	s.send(t, s.request(t, "GET", "/v1/accounts/acc_1", "", nil))
	resp, _ := sendVia(t, hc, s.request(t, "GET", "/v1/accounts/acc_1", "", nil))
	require.Equal(t, 200, resp.StatusCode, "after waiting out the 429")
	require.Equal(t, []string{"Too Many Requests RESOURCE_EXHAUSTED, retry in 1s", "OK"}, rec.summary())
	mu.Lock()
	defer mu.Unlock()
	waited := sent[1].Sub(answered[0])
	t.Logf("Retry-After 1s; waited %v between the 429 and the retry (%+v off)", waited, waited-time.Second)
	assert.InDelta(t, float64(time.Second), float64(waited), float64(50*time.Millisecond),
		"wait after Retry-After: 1 = %v, want within 50ms of 1s", waited)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
