package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"
)

// Transport is an http.RoundTripper that retries, paces and breaks the
// circuit as Config says. A request is retried only when it is idempotent
// (GET, HEAD, OPTIONS, TRACE, PUT, DELETE) or carries an Idempotency-Key,
// and its body, if any, can be replayed through GetBody (http.NewRequest
// sets it for in-memory bodies). What is retried: the retryable statuses
// (429, 500, 502, 503, 504, or the catalog's flag for the code) and
// network errors other than certificate errors, never a request the caller
// cancelled. Between attempts it waits the Retry-After the server asked for,
// else a backoff drawn from [0, BaseDelay·2ⁿ⁻¹] capped at MaxDelay; it
// never starts a wait that would end past the request's deadline (its
// context's, which http.Client.Timeout sets too), and returns the last
// response instead. The response returned is the last
// one, its body unread: pass it to a Decoder. A Transport is safe for
// concurrent use.
type Transport struct {
	cfg      Config
	dec      Decoder
	breakers *breakers // nil when the breaker is disabled
	pacer    *pacer    // nil without pacing
}

var _ http.RoundTripper = (*Transport)(nil)

// NewTransport returns a Transport for cfg, or an error wrapping
// ErrInvalidConfig for a negative setting or a BaseDelay above MaxDelay.
func NewTransport(cfg Config) (*Transport, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	t := &Transport{cfg: cfg, dec: Decoder{Catalog: cfg.Catalog, MaxBody: cfg.MaxBody, Now: cfg.Clock.Now}}
	if !cfg.Breaker.Disabled {
		t.breakers = newBreakers(cfg.Breaker)
	}
	if cfg.Pacing {
		t.pacer = newPacer()
	}
	return t, nil
}

// State returns the circuit state of host (as in a request URL's Host) at
// the Transport's clock: closed when the breaker is disabled or the host
// is unknown.
func (t *Transport) State(host string) State {
	if t.breakers == nil {
		return StateClosed
	}
	s, _ := t.breakers.state(strings.ToLower(host), t.cfg.Clock.Now())
	return s
}

// RoundTrip sends req, retrying as the Transport's doc says.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	host := strings.ToLower(req.URL.Host)
	replay := replayable(req)
	for n := 1; ; n++ {
		r, err := attemptRequest(req, n)
		if err != nil {
			return nil, err
		}
		a := Attempt{Method: req.Method, Host: host, Attempt: n}
		resp, apiErr, err := t.send(ctx, r, host, &a)
		a.Wait, a.Retry = t.next(ctx, host, n, replay, apiErr, err)
		if t.cfg.OnAttempt != nil {
			t.cfg.OnAttempt(a)
		}
		if !a.Retry {
			return resp, err
		}
		if resp != nil {
			drainClose(resp.Body, t.dec.limit())
		}
		if err := t.cfg.Clock.Sleep(ctx, a.Wait); err != nil {
			return nil, err
		}
	}
}

// send makes one attempt: the pacing hold, the breaker, the base
// transport. It returns the response, decoded when it is an error (its
// body is left readable), or the error.
func (t *Transport) send(ctx context.Context, r *http.Request, host string, a *Attempt) (*http.Response, *Error, error) {
	if err := t.pace(ctx, r, host, a); err != nil {
		closeBody(r)
		a.Err = err
		return nil, nil, err
	}
	var tk ticket
	if t.breakers != nil {
		var err error
		if tk, err = t.breakers.allow(host, t.cfg.Clock.Now()); err != nil {
			closeBody(r)
			a.Err, a.Breaker = err, err.(*CircuitOpenError).State
			return nil, nil, err
		}
	}
	resp, err := t.cfg.Base.RoundTrip(r)
	now := t.cfg.Clock.Now()
	if err != nil {
		resp = nil
	}
	if t.breakers != nil {
		a.Breaker = t.breakers.record(host, tk, classify(ctx, resp, err), now)
	}
	if err != nil {
		a.Err = err
		return nil, nil, err
	}
	if t.pacer != nil {
		t.pacer.observe(host, r.URL.Path, resp.Header, now)
	}
	a.Status = resp.StatusCode
	if resp.StatusCode < 400 {
		return resp, nil, nil
	}
	apiErr := t.peek(resp)
	a.Code = apiErr.Code
	return resp, apiErr, nil
}

// pace waits out a RateLimit hold on the request's policies, or fails at
// once with ErrHeld and context.DeadlineExceeded when the hold would
// outlast the deadline.
func (t *Transport) pace(ctx context.Context, r *http.Request, host string, a *Attempt) error {
	if t.pacer == nil {
		return nil
	}
	hold, policy := t.pacer.hold(host, r.URL.Path, t.cfg.Clock.Now())
	if hold <= 0 {
		return nil
	}
	hold = min(hold, t.cfg.MaxRetryAfter)
	if !t.fits(ctx, hold) {
		return fmt.Errorf("%w: %s policy %q for %v, past the deadline: %w", ErrHeld, host, policy, hold, context.DeadlineExceeded)
	}
	a.Held = hold
	return t.cfg.Clock.Sleep(ctx, hold)
}

// next decides whether attempt n is followed by another, and after what
// wait.
func (t *Transport) next(ctx context.Context, host string, n int, replay bool, apiErr *Error, err error) (time.Duration, bool) {
	if n >= t.cfg.MaxAttempts || !replay || ctx.Err() != nil {
		return 0, false
	}
	var wait time.Duration
	switch {
	case err != nil:
		if !transient(err) {
			return 0, false
		}
		wait = t.backoff(n)
	case apiErr == nil || !apiErr.Retryable:
		return 0, false
	case apiErr.HasRetryAfter:
		wait = min(apiErr.RetryAfter, t.cfg.MaxRetryAfter)
	default:
		wait = t.backoff(n)
	}
	if !t.fits(ctx, wait) {
		return 0, false
	}
	if t.breakers != nil {
		if s, _ := t.breakers.state(host, t.cfg.Clock.Now().Add(wait)); s == StateOpen {
			return 0, false // the retry would only be refused
		}
	}
	return wait, true
}

// backoff draws the wait after attempt n: full jitter under a ceiling of
// BaseDelay·2ⁿ⁻¹, capped at MaxDelay.
func (t *Transport) backoff(n int) time.Duration {
	ceiling := t.cfg.BaseDelay
	for i := 1; i < n && ceiling < t.cfg.MaxDelay; i++ {
		if ceiling > t.cfg.MaxDelay/2 {
			ceiling = t.cfg.MaxDelay // doubling would pass the cap, or overflow
			break
		}
		ceiling *= 2
	}
	ceiling = min(ceiling, t.cfg.MaxDelay)
	if t.cfg.Jitter == nil {
		if ceiling == maxDuration {
			return rand.N(ceiling)
		}
		return rand.N(ceiling + 1)
	}
	return max(0, min(t.cfg.Jitter(ceiling), ceiling))
}

// fits reports whether a wait from now ends before ctx's deadline.
func (t *Transport) fits(ctx context.Context, wait time.Duration) bool {
	deadline, ok := ctx.Deadline()
	return !ok || t.cfg.Clock.Now().Add(wait).Before(deadline)
}

// peek decodes an error response from the first MaxBody bytes of its body
// and puts them back in front of the rest, so the caller reads the body
// whole.
func (t *Transport) peek(resp *http.Response) *Error {
	limit := t.dec.limit()
	var buf []byte
	if resp.Body != nil {
		buf, _ = io.ReadAll(io.LimitReader(resp.Body, limit+1))
		resp.Body = &replayBody{Reader: io.MultiReader(bytes.NewReader(buf), resp.Body), Closer: resp.Body}
	}
	truncated := int64(len(buf)) > limit
	if truncated {
		buf = buf[:limit]
	}
	return t.dec.decode(resp.StatusCode, resp.Header, buf, truncated)
}

// replayBody reads the peeked bytes, then the rest of the original body.
type replayBody struct {
	io.Reader
	io.Closer
}

// replayable reports whether req may be sent more than once.
func replayable(req *http.Request) bool {
	switch req.Method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
	default:
		if req.Header.Get(HeaderIdempotencyKey) == "" {
			return false
		}
	}
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

// attemptRequest returns the request for attempt n: req itself first, then
// clones with a fresh body from GetBody.
func attemptRequest(req *http.Request, n int) (*http.Request, error) {
	if n == 1 {
		return req, nil
	}
	r := req.Clone(req.Context())
	if req.Body != nil && req.Body != http.NoBody {
		body, err := req.GetBody()
		if err != nil {
			return nil, fmt.Errorf("client: replaying the body of %s %s: %w", req.Method, req.URL.Redacted(), err)
		}
		r.Body = body
	}
	return r, nil
}

// closeBody closes the body of a request that is not sent, as a
// RoundTripper must.
func closeBody(r *http.Request) {
	if r.Body != nil {
		_ = r.Body.Close()
	}
}

// classify turns an attempt's result into what the breaker counts.
func classify(ctx context.Context, resp *http.Response, err error) outcome {
	switch {
	case err != nil && (errors.Is(err, context.Canceled) || errors.Is(ctx.Err(), context.Canceled)):
		return outcomeNeutral
	case err != nil || resp.StatusCode >= 500:
		return outcomeFailure
	}
	return outcomeSuccess
}

// transient reports whether a transport error may go away on its own:
// every one but a refused certificate, a cancellation and this package's
// own refusals.
func transient(err error) bool {
	var (
		verify    *tls.CertificateVerificationError
		authority x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
	)
	switch {
	case errors.Is(err, ErrCircuitOpen), errors.Is(err, ErrHeld), errors.Is(err, context.Canceled),
		errors.As(err, &verify), errors.As(err, &authority), errors.As(err, &hostname), errors.As(err, &invalid):
		return false
	}
	return true
}
