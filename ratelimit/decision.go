package ratelimit

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/faultline-go/faultline/catalog"
	"github.com/faultline-go/faultline/middleware"
	"github.com/faultline-go/faultline/problem"
)

// decision is one limiter's decision of one request: the checks handed to
// the Store in one call, their results and the compiled policies behind
// them. Decisions are pooled, since slices handed to an interface method
// escape to the heap; a decision kept for a later Route is left to the
// garbage collector instead, as the request's context refers to it.
type decision struct {
	l      *Limiter
	who    *middleware.Principal // the request's caller, or nil
	key    string
	n      int
	checks [MaxChecks]Check
	res    [MaxChecks]Result
	pols   [MaxChecks]*compiled
	by     Source
	obs    [MaxChecks]PolicyResult // backs DecisionEvent.Policies
	line   int                     // this limiter's line of the RateLimit headers; -1 before any
	lines  *lineCache              // the Route's cache of header lines, for several checks
	kept   bool                    // referred to by the request's context: not pooled
}

var decisions = sync.Pool{New: func() any { return new(decision) }}

func newDecision(l *Limiter, r *http.Request) *decision {
	d := decisions.Get().(*decision)
	d.l, d.n, d.line = l, 0, -1
	d.who = middleware.PrincipalFromContext(r.Context())
	if l.key != nil {
		d.key = l.key(r)
	} else {
		d.key = clientKey(r, d.who)
	}
	return d
}

// release returns d to the pool unless it is kept.
func (d *decision) release() {
	if d.kept {
		return
	}
	clear(d.checks[:d.n]) // drop the key strings
	d.l, d.who, d.key, d.lines = nil, nil, "", nil
	decisions.Put(d)
}

// add appends c's check for d's key; it reports false when d is full.
func (d *decision) add(c *compiled) bool {
	if d.n == MaxChecks {
		return false
	}
	d.checks[d.n] = c.check
	d.checks[d.n].Key = d.key
	d.pols[d.n] = c
	d.n++
	return true
}

// addCaller adds the policy of r's caller. It answers r itself, with a
// sanitized 500, when that policy is invalid, and then reports false.
func (d *decision) addCaller(w http.ResponseWriter, r *http.Request) bool {
	c, err := d.l.callerPolicy(r, d.who)
	if err != nil {
		problem.Write(w, r, problem.Internal(err))
		return false
	}
	d.add(c)
	return true
}

// enforce decides d's checks, sets the headers and answers a refusal (or a
// store failure the Outage says to refuse) itself. It reports whether the
// request may go on.
func (d *decision) enforce(w http.ResponseWriter, r *http.Request, prior *decision) bool {
	ctx := r.Context()
	allowed, by, storeErr, answer := d.l.take(ctx, d)
	d.by = by
	if d.l.observer != nil {
		d.observe(ctx, allowed && answer == nil, storeErr, prior != nil)
	}
	switch {
	case answer != nil:
		problem.Write(w, r, answer)
		return false
	case by == SourceNone: // FailOpen: nothing was decided, nothing is advertised
		return true
	}
	if prior != nil {
		if !allowed {
			d.l.refund(ctx, prior)
		}
		prior.merge(d)
		prior.setHeaders(w.Header())
	} else {
		d.setHeaders(w.Header())
	}
	if !allowed {
		problem.Write(w, r, d.refusal())
	}
	return allowed
}

// merge appends d's checks to prior, whose line of the headers then shows
// both. Checks past MaxChecks are decided but not refunded or shown.
func (prior *decision) merge(d *decision) {
	prior.lines = d.lines
	for i := 0; i < d.n && prior.n < MaxChecks; i++ {
		prior.checks[prior.n], prior.res[prior.n], prior.pols[prior.n] = d.checks[i], d.res[i], d.pols[i]
		prior.n++
	}
}

// Source says what decided a request.
type Source int

const (
	// SourceStore is the Store.
	SourceStore Source = iota
	// SourceFallback is the local fallback store of Outage FallBack.
	SourceFallback
	// SourceNone is no store: the store failed (or the breaker was open)
	// and FailOpen admitted the request or FailClosed refused it.
	SourceNone
)

// String names the source.
func (s Source) String() string {
	switch s {
	case SourceStore:
		return "store"
	case SourceFallback:
		return "fallback"
	case SourceNone:
		return "none"
	}
	return "Source(" + strconv.Itoa(int(s)) + ")"
}

// take decides d on the store, or by the Outage behaviour while the store
// fails or the breaker is open. storeErr is the store's failure, if it was
// asked and failed; a non-nil answer is the response to send.
func (l *Limiter) take(ctx context.Context, d *decision) (allowed bool, by Source, storeErr, answer error) {
	o := &l.outage
	if !o.breaker.allow(o.now) {
		allowed, by, answer = o.decideWithout(ctx, d)
		return allowed, by, nil, answer
	}
	allowed, storeErr = l.store.Take(ctx, d.checks[:d.n], d.res[:d.n])
	switch {
	case storeErr == nil:
		o.succeeded()
		return allowed, SourceStore, nil, nil
	case errors.Is(storeErr, ErrClosed):
		return false, SourceStore, storeErr, problem.Internal(storeErr)
	case ctx.Err() != nil:
		// The client gave up (or the server's deadline passed): no
		// verdict on the store, and nobody to answer.
		o.breaker.abandon()
		return false, SourceStore, storeErr, storeErr
	}
	// Decided first, so that the failure's log record counts it.
	allowed, by, answer = o.decideWithout(ctx, d)
	o.failed(ctx, storeErr)
	return allowed, by, storeErr, answer
}

// refund gives back the tokens prior took, and updates its results; a
// refund that fails is logged and otherwise ignored, as the request is
// refused anyway.
func (l *Limiter) refund(ctx context.Context, prior *decision) {
	var store Store
	switch prior.by {
	case SourceStore:
		store = l.store
	case SourceFallback:
		store = l.outage.fallback
	default:
		return // nothing was taken
	}
	if err := store.Refund(ctx, prior.checks[:prior.n], prior.res[:prior.n]); err != nil {
		l.outage.failed(ctx, err)
	}
}

// keep attaches d to r's context, keyed by the limiter, for the Route
// middlewares of the same limiter further down the chain.
func (d *decision) keep(r *http.Request) *http.Request {
	d.kept = true
	return r.WithContext(&keptContext{Context: r.Context(), d: d})
}

// keptContext carries a kept decision under its limiter as the key.
type keptContext struct {
	context.Context
	d *decision
}

func (c *keptContext) Value(key any) any {
	if l, ok := key.(*Limiter); ok && l == c.d.l {
		return c.d
	}
	return c.Context.Value(key)
}

// keptDecision returns the decision l kept for the request of ctx, or nil.
func (l *Limiter) keptDecision(ctx context.Context) *decision {
	d, _ := ctx.Value(l).(*decision)
	return d
}

// refusal is the 429 of a refused decision: Retry-After is the longest
// wait among the refusing policies, the message and metadata name the
// first, and Policies lists them all (the problem envelope's
// violated-policies).
func (d *decision) refusal() *problem.Error {
	var wait time.Duration
	var names []string
	for i := 0; i < d.n; i++ {
		if !d.res[i].Allowed {
			names = append(names, d.pols[i].policy.Name)
			wait = max(wait, d.res[i].RetryAfter)
		}
	}
	return &problem.Error{
		Code:       catalog.ResourceExhausted,
		Message:    "Rate limit exceeded for policy " + strconv.Quote(names[0]) + ".",
		Metadata:   map[string]string{"policy": names[0]},
		Policies:   names,
		RetryAfter: ceilSeconds(wait),
	}
}
