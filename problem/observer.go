package problem

import (
	"context"
	"net/http"
	"time"
)

// ErrorObserver is called once for every error the renderer answers (or,
// when the response had started, only logs), after its log record, with what
// a metrics system needs to count it. It runs on the request's goroutine,
// so it must be quick and must not keep ev past its return; it must be safe
// for concurrent use.
type ErrorObserver func(ctx context.Context, ev ErrorEvent)

// ErrorEvent describes one rendered error, for an ErrorObserver.
type ErrorEvent struct {
	// Code is the catalog name of the code answered with (INTERNAL for a
	// sanitized error).
	Code string
	// Status is the HTTP status.
	Status int
	// ExcID is the exc_ id of a sanitized internal error, else empty.
	ExcID string
	// RequestID is the request's id.
	RequestID string
	// TraceID is the trace id of a valid W3C traceparent request header,
	// else empty.
	TraceID string
	// Time is when the error was rendered, by the renderer's clock.
	Time time.Time
	// Latency is the time from the request's start, as recorded by
	// WithRequestStart (middleware.Stack does), to Time; 0 when no start
	// was recorded.
	Latency time.Duration
	// SampledOut says that the client-error log limit dropped the error's
	// record (see Config.ClientLogLimit).
	SampledOut bool
	// Committed says that the response had started, so the error was only
	// logged.
	Committed bool
}

// event describes p for the log and the observer.
func (rd *Renderer) event(r *http.Request, p *Problem, committed bool) ErrorEvent {
	ev := ErrorEvent{
		Code: p.Code.Name, Status: p.Status, ExcID: p.ExcID, RequestID: p.RequestID,
		TraceID: traceID(r.Header), Time: rd.now(), Committed: committed,
	}
	if start, ok := RequestStart(r.Context()); ok {
		ev.Latency = ev.Time.Sub(start)
	}
	return ev
}

// Observes reports whether the renderer has an ErrorObserver, so that
// middleware records the request start time only when it is used.
func (rd *Renderer) Observes() bool { return rd.observer != nil }
