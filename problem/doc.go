// Package problem turns every error a service meets into one HTTP error
// response, in one JSON shape, with one log record.
//
// # The model
//
// A handler or middleware fails with an error. An *Error is an error the
// client is meant to see: a catalog code (catalog.NotFound), a message,
// field violations, metadata, extra headers and a cause that is logged and
// never sent. Any other error is the service's own failure.
//
// A Renderer answers an error. It looks the code up in its catalog, which
// gives the status and the code's name in each envelope, and writes the
// body in the Envelope the service has chosen: flat ({"code","message"}),
// google (error.status), tracked (error.code with request id and
// timestamp) or problem (RFC 9457, the default). An error that is not an
// *Error, an *Error with a code the catalog does not know, and a recovered
// panic are sanitized: the client gets a generic message and an exc_ id,
// the log gets the cause. A few errors of the standard library are
// answered as what they are: context.DeadlineExceeded (504), a
// *http.MaxBytesError (413), a request body the client broke (400, 408 for
// a read timeout) and a client that went away (nothing written).
//
// The Renderer travels in the request's context. middleware.Stack (or
// middleware.Recover) installs it once per request, and Write finds it
// there, so any handler or middleware fails the same way:
//
//	problem.Write(w, r, problem.New(catalog.NotFound, "Order 42 not found."))
//
// A request without a renderer is answered by a default one (the problem
// envelope, slog.Default()), and the first such request from each caller is
// logged as a warning.
//
// # Logging and observing
//
// Each answered error is one slog record: sanitized 500s at ERROR, other
// 5xx at Config.ServerErrorLevel, 4xx at Config.ClientErrorLevel. A record
// carries the status, code, request id, method, path, the W3C traceparent's
// trace id, the message or exc_ id, and the cause, panic value and stack,
// each capped (MaxLogTextBytes, MaxLogStackBytes) so that no error can make
// a record large. Client errors are logged at most Config.ClientLogLimit
// times per code per second; 5xx always are. Config.Observer is told of
// every error, logged or not, for metrics.
//
// DecodeJSON reads a JSON request body and reports every way it can be
// wrong as an *Error.
//
// A Renderer is safe for concurrent use and never changes once built;
// NewRenderer validates its Config.
package problem
