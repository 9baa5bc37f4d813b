package problem

import (
	"context"
	"time"
)

// startKey is the context key of the request start time.
type startKey struct{}

// startCtx carries a request's start time in the one allocation of the
// context itself, where context.WithValue would box the time in a second.
type startCtx struct {
	context.Context
	start time.Time
}

// Value returns the start time for startKey and asks the parent otherwise.
func (c *startCtx) Value(key any) any {
	if key == (startKey{}) {
		return &c.start
	}
	return c.Context.Value(key)
}

// WithRequestStart returns a context derived from ctx that records t as the
// start of the request, for ErrorEvent.Latency.
func WithRequestStart(ctx context.Context, t time.Time) context.Context {
	return &startCtx{Context: ctx, start: t}
}

// RequestStart returns the start time WithRequestStart recorded in ctx.
func RequestStart(ctx context.Context) (time.Time, bool) {
	if t, ok := ctx.Value(startKey{}).(*time.Time); ok {
		return *t, true
	}
	return time.Time{}, false
}
