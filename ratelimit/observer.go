package ratelimit

import (
	"context"
)

// DecisionObserver is called once for every decision a Limiter makes (by
// Handler, and by each Route), with what a metrics system needs to count
// it. It runs on the request's goroutine, so it must be quick, must be safe
// for concurrent use and must not keep ev (or ev.Policies) past its return.
// A Limiter without one spends nothing on it.
type DecisionObserver func(ctx context.Context, ev DecisionEvent)

// DecisionEvent describes one decision, for a DecisionObserver.
type DecisionEvent struct {
	// Key is the bucket key the decision was made for.
	Key string
	// Allowed says whether the request may go on.
	Allowed bool
	// Route says the decision is a Route's (after the Handler's decision
	// of the same request, or in its place).
	Route bool
	// Source says what decided: the store, the fallback store, or none.
	Source Source
	// StoreErr is the store's failure, when the store was asked and
	// failed; nil when it answered or the open breaker kept it from being
	// asked.
	StoreErr error
	// Breaker is the breaker's state after the decision: "closed", "open"
	// or "half-open".
	Breaker string
	// Policies are the decision's policies and their results, in order;
	// empty when no store decided (Source none).
	Policies []PolicyResult
}

// PolicyResult is one policy's part of a decision.
type PolicyResult struct {
	// Policy is the policy's name.
	Policy string
	Result
}

// observe reports d to the limiter's observer.
func (d *decision) observe(ctx context.Context, allowed bool, storeErr error, route bool) {
	ev := DecisionEvent{
		Key: d.key, Allowed: allowed, Route: route, Source: d.by, StoreErr: storeErr,
		Breaker: d.l.outage.breaker.state(d.l.outage.now()),
	}
	if d.by != SourceNone {
		for i := 0; i < d.n; i++ {
			d.obs[i] = PolicyResult{Policy: d.pols[i].policy.Name, Result: d.res[i]}
		}
		ev.Policies = d.obs[:d.n]
	}
	d.l.observer(ctx, ev)
}
