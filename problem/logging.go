package problem

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
)

// log writes the record for one error response, unless the client-error
// limit drops it, and reports the error to the observer.
func (rd *Renderer) log(r *http.Request, err error, p *Problem, committed bool) {
	ctx := r.Context()
	var level slog.Level
	var msg string
	switch {
	case p.ExcID != "":
		level, msg = slog.LevelError, "internal error"
	case p.Status >= 500:
		level, msg = rd.serverLevel.Level(), "server error"
	default:
		level, msg = rd.clientLevel.Level(), "client error"
	}
	enabled := rd.logger.Enabled(ctx, level)
	var ev ErrorEvent
	if enabled || rd.observer != nil {
		ev = rd.event(r, p, committed)
	}
	var dropped int64
	if enabled && p.Status < 500 && rd.limit != nil {
		var ok bool
		if ok, dropped = rd.limit.admit(p.Code.Name, ev.Time.Unix()); !ok {
			ev.SampledOut, enabled = true, false
		}
	}
	if enabled {
		rd.logger.LogAttrs(ctx, level, msg, rd.attrs(r, err, p, &ev, dropped)...)
	}
	if rd.observer != nil {
		rd.observer(ctx, ev)
	}
}

// attrs returns the attributes of p's record. It reads err, the panic
// value and the messages through capText, so a record stays bounded
// whatever they hold.
func (rd *Renderer) attrs(r *http.Request, err error, p *Problem, ev *ErrorEvent, dropped int64) []slog.Attr {
	attrs := make([]slog.Attr, 0, 14)
	attrs = append(attrs,
		slog.Int("status", p.Status),
		slog.String("code", p.Code.Name),
		slog.String("request_id", p.RequestID),
		slog.String("method", capText(r.Method, MaxLogTextBytes)),
		slog.String("path", capText(r.URL.Path, MaxLogTextBytes)),
	)
	if ev.TraceID != "" {
		attrs = append(attrs, slog.String("trace_id", ev.TraceID))
	}
	if p.ExcID != "" {
		attrs = append(attrs, slog.String("exc_id", p.ExcID))
	} else {
		attrs = append(attrs, slog.String("message", capText(p.Message, MaxLogTextBytes)))
	}
	if pe, ok := asType[*Error](err); ok && rd.ref(pe.Code) == nil {
		attrs = append(attrs, slog.String("unknown_code", capText(pe.Code, MaxLogTextBytes)))
	}
	pan, isPanic := asType[*PanicError](err)
	switch {
	case isPanic:
		// The error text of a panic is its value: log it once, as panic.
		attrs = append(attrs, slog.String("panic", panicText(pan.Value)),
			slog.String("stack", capText(string(pan.Stack), MaxLogStackBytes)))
	case p.ExcID != "" || errorCause(err) != nil:
		attrs = append(attrs, slog.String("error", errorText(err)))
	}
	if p.ExcID != "" || errorCause(err) != nil {
		attrs = append(attrs, slog.String("error_chain", chain(err)))
	}
	if ev.Committed {
		attrs = append(attrs, slog.Bool("committed", true))
	}
	if dropped > 0 {
		attrs = append(attrs, slog.Int64("suppressed", dropped))
	}
	return attrs
}

// errorCause returns what err says beyond a plain *Error: its cause, or err
// itself when it is no *Error at all.
func errorCause(err error) error {
	if pe, ok := asType[*Error](err); ok {
		return pe.Cause
	}
	return err
}

// chain lists the dynamic types of err's wrapping chain, outermost first.
func chain(err error) string {
	var b strings.Builder
	for i := 0; err != nil && i < 16; i++ {
		if i > 0 {
			b.WriteString(" > ")
		}
		fmt.Fprintf(&b, "%T", err)
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			errs := u.Unwrap()
			err = nil
			if len(errs) > 0 {
				err = errs[0]
			}
		default:
			err = nil
		}
	}
	return b.String()
}
