package client

import (
	"fmt"
	"net/http"
	"time"
)

// Defaults of a zero Config, as the API documents ask of clients.
const (
	DefaultMaxAttempts   = 3
	DefaultBaseDelay     = time.Second
	DefaultMaxDelay      = 30 * time.Second
	DefaultMaxRetryAfter = time.Minute
	DefaultFailures      = 5
	DefaultOpenFor       = 30 * time.Second
	DefaultProbes        = 1
)

// Config configures a Transport. The zero value is the documented
// behaviour: three attempts, backoff from 1 s doubling up to 30 s with full
// jitter, Retry-After honoured up to a minute, a breaker per host that
// opens after 5 consecutive failures for 30 s, no pacing, no catalog, no
// hook.
type Config struct {
	// Base sends each attempt; nil means http.DefaultTransport.
	Base http.RoundTripper
	// Clock times every wait; nil means SystemClock.
	Clock Clock
	// Jitter picks the backoff before a retry from [0, max]; nil means
	// uniformly at random ("full jitter"). Tests pass a fixed choice.
	Jitter func(max time.Duration) time.Duration

	// MaxAttempts is the most attempts per request, the first included;
	// 0 means DefaultMaxAttempts, 1 turns retrying off.
	MaxAttempts int
	// BaseDelay is the backoff ceiling before the first retry; it doubles
	// for each retry after. 0 means DefaultBaseDelay.
	BaseDelay time.Duration
	// MaxDelay caps the backoff ceiling; 0 means DefaultMaxDelay.
	MaxDelay time.Duration
	// MaxRetryAfter caps the wait a Retry-After (or RetryInfo) asks for,
	// and a pacing hold; 0 means DefaultMaxRetryAfter.
	MaxRetryAfter time.Duration

	// Catalog, when set, makes a code's retryable flag, not its status,
	// decide whether a response is retried, and is used to decode
	// responses for the hook.
	Catalog *Catalog
	// MaxBody is the most bytes of an error body read to decide on a
	// retry; 0 means DefaultMaxBody.
	MaxBody int64

	// Pacing holds a request while a RateLimit header has said that a
	// policy applying to it has no requests left (r=0), for that policy's
	// t seconds (at most MaxRetryAfter), instead of sending it into a 429.
	Pacing bool
	// Breaker configures the per-host circuit breaker.
	Breaker BreakerConfig

	// OnAttempt, when set, is called after every attempt, from the
	// goroutine of the request. It must not block; nothing is logged when
	// it is nil.
	OnAttempt func(Attempt)
}

// BreakerConfig configures the circuit breaker a Transport keeps per host.
// Failures are 5xx answers, timeouts and network errors; 4xx answers, 429
// included, are successes, and a request the caller cancelled counts as
// neither.
type BreakerConfig struct {
	// Disabled turns the breaker off.
	Disabled bool
	// Failures is the number of consecutive failures that opens the
	// circuit; 0 means DefaultFailures.
	Failures int
	// OpenFor is how long an open circuit fails fast before it lets
	// probes through; 0 means DefaultOpenFor.
	OpenFor time.Duration
	// Probes is the most requests in flight while half-open; 0 means
	// DefaultProbes.
	Probes int
}

// Attempt is what Config.OnAttempt is told after each attempt.
type Attempt struct {
	// Method and Host are the request's.
	Method, Host string
	// Attempt counts from 1.
	Attempt int
	// Status is the response status; 0 when there was none.
	Status int
	// Code is the decoded code of an error response; empty otherwise.
	Code string
	// Err is the error of the attempt: a network error, a
	// *CircuitOpenError, a hold past the deadline; nil with a response.
	Err error
	// Held is how long pacing held the attempt before it was sent.
	Held time.Duration
	// Wait is the wait before the next attempt; zero when there is none.
	Wait time.Duration
	// Retry says whether another attempt follows.
	Retry bool
	// Breaker is the host's circuit state after the attempt.
	Breaker State
}

// withDefaults fills in zero fields and validates the rest.
func (c Config) withDefaults() (Config, error) {
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"MaxAttempts", int64(c.MaxAttempts)}, {"BaseDelay", int64(c.BaseDelay)},
		{"MaxDelay", int64(c.MaxDelay)}, {"MaxRetryAfter", int64(c.MaxRetryAfter)},
		{"MaxBody", c.MaxBody}, {"Breaker.Failures", int64(c.Breaker.Failures)},
		{"Breaker.OpenFor", int64(c.Breaker.OpenFor)}, {"Breaker.Probes", int64(c.Breaker.Probes)},
	} {
		if f.v < 0 {
			return c, fmt.Errorf("%w: %s is %d, want 0 or more", ErrInvalidConfig, f.name, f.v)
		}
	}
	c.MaxAttempts = orInt(c.MaxAttempts, DefaultMaxAttempts)
	c.BaseDelay = orDuration(c.BaseDelay, DefaultBaseDelay)
	c.MaxDelay = orDuration(c.MaxDelay, DefaultMaxDelay)
	c.MaxRetryAfter = orDuration(c.MaxRetryAfter, DefaultMaxRetryAfter)
	c.Breaker.Failures = orInt(c.Breaker.Failures, DefaultFailures)
	c.Breaker.OpenFor = orDuration(c.Breaker.OpenFor, DefaultOpenFor)
	c.Breaker.Probes = orInt(c.Breaker.Probes, DefaultProbes)
	if c.BaseDelay > c.MaxDelay {
		return c, fmt.Errorf("%w: BaseDelay %v is above MaxDelay %v", ErrInvalidConfig, c.BaseDelay, c.MaxDelay)
	}
	if c.Base == nil {
		c.Base = http.DefaultTransport
	}
	if c.Clock == nil {
		c.Clock = SystemClock{}
	}
	return c, nil
}

func orInt(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

func orDuration(v, def time.Duration) time.Duration {
	if v == 0 {
		return def
	}
	return v
}
