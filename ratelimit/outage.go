package ratelimit

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/faultline-go/faultline/catalog"
	"github.com/faultline-go/faultline/problem"
)

// Outage says what the limiter does while its store fails (a Redis outage,
// a call past its time budget) or its breaker is open.
type Outage int

const (
	// FallBack decides against a local in-memory store, each policy's
	// rate and burst scaled by Config.FallbackShare, and advertises the
	// scaled policies in the headers, since they are what is enforced.
	// It is the default: a limit holds through an outage.
	FallBack Outage = iota
	// FailOpen admits every request undecided and sends no RateLimit
	// headers. The store-failure log record counts the requests it
	// admitted. Choose it only where availability beats the limit.
	FailOpen
	// FailClosed answers 503 UNAVAILABLE with Retry-After.
	FailClosed
)

// String names the outage behaviour.
func (o Outage) String() string {
	switch o {
	case FallBack:
		return "fall-back"
	case FailOpen:
		return "fail-open"
	case FailClosed:
		return "fail-closed"
	}
	return "Outage(" + strconv.Itoa(int(o)) + ")"
}

// outageHandler is the limiter's state for store failures: the breaker,
// the fallback store, and the counts its once-a-second log record carries.
type outageHandler struct {
	mode       Outage
	retryAfter time.Duration
	fallback   *MemoryStore // FallBack only
	breaker    breaker
	logger     *slog.Logger
	now        func() time.Time

	// Since the last log record:
	failures atomic.Int64 // store calls that failed
	fellBack atomic.Int64 // decisions made by the fallback store
	admitted atomic.Int64 // requests FailOpen admitted undecided
	lastLog  atomic.Int64 // unix nanoseconds of the last record
	lastErr  atomic.Pointer[error]
}

// init sets o up for cfg, in place: o holds atomics.
func (o *outageHandler) init(cfg Config) {
	o.mode, o.retryAfter, o.logger, o.now = cfg.Outage, cfg.OutageRetryAfter, cfg.Logger, cfg.Now
	o.breaker.init(cfg.BreakerFailures, cfg.BreakerProbe)
	if o.retryAfter == 0 {
		o.retryAfter = time.Second
	}
	if o.logger == nil {
		o.logger = slog.Default()
	}
	if o.now == nil {
		o.now = time.Now
	}
	if o.mode == FallBack {
		o.fallback = NewMemoryStore(MemoryConfig{})
	}
}

func (o *outageHandler) close() error {
	if o.fallback != nil {
		return o.fallback.Close()
	}
	return nil
}

// succeeded records a store call that answered.
func (o *outageHandler) succeeded() {
	if o.breaker.success() {
		o.logger.LogAttrs(context.Background(), slog.LevelInfo, "rate limit store answers again: breaker closed",
			slog.String("outage", o.mode.String()))
	}
}

// failed records a store call that failed with err.
func (o *outageHandler) failed(ctx context.Context, err error) {
	o.failures.Add(1)
	o.lastErr.Store(&err)
	now := o.now()
	if o.breaker.failure(now, errors.Is(err, ErrStoreUnavailable)) {
		o.log(ctx, now, "rate limit store failing: breaker open", err, true)
		return
	}
	o.log(ctx, now, "rate limit store failed", err, false)
}

// log writes a store-failure record at most once a second (always when
// force), with the counts since the previous record.
func (o *outageHandler) log(ctx context.Context, now time.Time, msg string, err error, force bool) {
	t, last := now.UnixNano(), o.lastLog.Load()
	if !force && t-last < int64(time.Second) || !o.lastLog.CompareAndSwap(last, t) {
		return
	}
	attrs := []slog.Attr{
		slog.String("error", err.Error()),
		slog.String("outage", o.mode.String()),
		slog.String("breaker", o.breaker.state(now)),
		slog.Int64("failures", o.failures.Swap(0)),
	}
	switch o.mode {
	case FallBack:
		attrs = append(attrs, slog.Int64("fallback_decisions", o.fellBack.Swap(0)))
	case FailOpen:
		attrs = append(attrs, slog.Int64("admitted_unlimited", o.admitted.Swap(0)))
	}
	o.logger.LogAttrs(ctx, slog.LevelWarn, msg, attrs...)
}

// decideWithout decides d without the store, as the Outage says.
func (o *outageHandler) decideWithout(ctx context.Context, d *decision) (bool, Source, error) {
	switch o.mode {
	case FailOpen:
		o.admitted.Add(1)
		return true, SourceNone, nil
	case FailClosed:
		var cause error
		if p := o.lastErr.Load(); p != nil {
			cause = *p
		}
		return false, SourceNone, &problem.Error{
			Code:       catalog.Unavailable,
			Message:    "Rate limiting is temporarily unavailable; retry shortly.",
			RetryAfter: o.retryAfter,
			Cause:      cause,
		}
	}
	for i := 0; i < d.n; i++ {
		c := d.pols[i].fallback
		d.pols[i] = c
		d.checks[i] = c.check
		d.checks[i].Key = d.key
	}
	o.fellBack.Add(1)
	allowed, err := o.fallback.Take(ctx, d.checks[:d.n], d.res[:d.n])
	return allowed, SourceFallback, err
}

// breaker keeps the limiter from waiting on a store that keeps failing.
// Closed, every decision asks the store. After threshold consecutive
// failures, or one that says the store is unreachable, it opens: for probe
// every decision skips the store; then one decision at a time asks it
// (half-open), and the first that gets an answer closes it again.
type breaker struct {
	threshold int64
	probe     int64        // nanoseconds
	failures  atomic.Int64 // consecutive
	openUntil atomic.Int64 // unix nanoseconds; 0 when closed
	probing   atomic.Bool  // a half-open probe is in flight
}

func (b *breaker) init(threshold int, probe time.Duration) {
	if threshold == 0 {
		threshold = 3
	}
	if probe == 0 {
		probe = time.Second
	}
	b.threshold, b.probe = int64(threshold), int64(probe)
}

// allow reports whether a decision may ask the store now. Closed, it costs
// one atomic load.
func (b *breaker) allow(now func() time.Time) bool {
	until := b.openUntil.Load()
	if until == 0 {
		return true
	}
	if now().UnixNano() < until {
		return false
	}
	return b.probing.CompareAndSwap(false, true)
}

// success records an answer; it reports whether it closed the breaker.
func (b *breaker) success() bool {
	if b.failures.Load() != 0 { // a store on the hot path of every decision: read first
		b.failures.Store(0)
	}
	if b.openUntil.Load() == 0 {
		return false
	}
	b.openUntil.Store(0)
	b.probing.Store(false)
	return true
}

// failure records a failed call at now; it reports whether it opened the
// breaker (a failed probe keeps it open for another probe period).
func (b *breaker) failure(now time.Time, unavailable bool) bool {
	n := b.failures.Add(1)
	until := now.UnixNano() + b.probe
	if b.openUntil.Load() != 0 {
		b.openUntil.Store(until)
		b.probing.Store(false)
		return false
	}
	if n >= b.threshold || unavailable {
		return b.openUntil.CompareAndSwap(0, until)
	}
	return false
}

// abandon ends a probe that got no verdict (the client went away).
func (b *breaker) abandon() { b.probing.Store(false) }

// state names the breaker's state at now, for log records.
func (b *breaker) state(now time.Time) string {
	switch until := b.openUntil.Load(); {
	case until == 0:
		return "closed"
	case now.UnixNano() < until:
		return "open"
	}
	return "half-open"
}
