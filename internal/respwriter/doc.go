// Package respwriter wraps an http.ResponseWriter to record whether the
// response has been committed.
//
// # The model
//
// A Writer forwards everything to the writer it wraps and remembers the
// status and the number of body bytes that went through it. The renderer
// asks it whether the response has started: an error after that point can
// only be logged, never answered. The Writer keeps the optional interfaces
// of the wrapped writer (http.Flusher, http.Hijacker, io.ReaderFrom) and its
// Unwrap method, which http.ResponseController relies on. Its zero value is
// not usable; Reset points it at a writer, so one Writer embedded in the
// request state serves a whole request without an allocation of its own.
package respwriter
