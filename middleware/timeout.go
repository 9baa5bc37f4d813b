package middleware

import (
	"bytes"
	"context"
	"net/http"
	"runtime/debug"
	"sync"
	"time"

	"github.com/faultline-go/faultline/catalog"
	"github.com/faultline-go/faultline/internal/reqctx"
	"github.com/faultline-go/faultline/problem"
)

// Timeout answers 504 DEADLINE_EXCEEDED when the next handler has not finished
// within d, even if it ignores its context. Like http.TimeoutHandler, the
// handler runs in its own goroutine and writes into a buffer that is sent
// when it returns in time; its writes after the deadline fail with
// http.ErrHandlerTimeout and are discarded. The handler's context is canceled
// at the deadline. A panic in the handler is re-raised in the serving
// goroutine, with the handler's stack, for Recover. If the client goes away
// first, nothing is written.
//
// Because the response is buffered, handlers that stream (http.Flusher) or
// hijack the connection do not belong under Timeout.
func Timeout(d time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx, cancel := context.WithTimeout(r.Context(), d)
			defer cancel()
			// The handler gets its own copy of the request state: this
			// goroutine may answer the request while the handler runs.
			hr := r.WithContext(reqctx.Detach(ctx))
			tw := &timeoutWriter{header: make(http.Header)}
			done := make(chan struct{})
			panicked := make(chan *problem.PanicError, 1)
			go func() {
				defer func() {
					if v := recover(); v != nil {
						pe, ok := v.(*problem.PanicError)
						if !ok {
							pe = &problem.PanicError{Value: v, Stack: debug.Stack()}
						}
						tw.mu.Lock()
						late := tw.timedOut
						if !late {
							panicked <- pe
						}
						tw.mu.Unlock()
						if late {
							// Nobody waits for this handler any more: log
							// the panic (tw is committed, so nothing is
							// written).
							problem.Write(tw, hr, pe)
						}
					}
				}()
				next.ServeHTTP(tw, hr)
				close(done)
			}()
			var expired bool
			select {
			case pe := <-panicked:
				if pe.Value == http.ErrAbortHandler {
					panic(http.ErrAbortHandler)
				}
				panic(pe)
			case <-done:
				// A handler that returns after the deadline has overrun it,
				// even if this goroutine only notices now (a loaded
				// machine can run both channels ready at once).
				expired = ctx.Err() != nil
			case <-ctx.Done():
				expired = true
			}
			if expired {
				tw.mu.Lock()
				tw.timedOut = true
				tw.mu.Unlock()
				select {
				case pe := <-panicked: // panicked as the deadline passed
					problem.Write(tw, r, pe)
				default:
				}
				err := ctx.Err()
				if err == context.DeadlineExceeded {
					err = problem.Wrap(err, catalog.DeadlineExceeded,
						"The request did not complete within "+d.String()+".")
				}
				problem.Write(w, r, err)
				return
			}
			tw.mu.Lock()
			defer tw.mu.Unlock()
			dst := w.Header()
			for k, vv := range tw.header {
				dst[k] = vv
			}
			if tw.status == 0 {
				tw.status = http.StatusOK
			}
			w.WriteHeader(tw.status)
			_, _ = w.Write(tw.body.Bytes())
		})
	}
}

// timeoutWriter buffers a response until the handler returns or the
// deadline passes, whichever is first.
type timeoutWriter struct {
	mu       sync.Mutex // guards the fields below
	header   http.Header
	body     bytes.Buffer
	status   int
	timedOut bool
}

func (tw *timeoutWriter) Header() http.Header { return tw.header }

func (tw *timeoutWriter) Write(b []byte) (int, error) {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	if tw.timedOut {
		return 0, http.ErrHandlerTimeout
	}
	if tw.status == 0 {
		tw.status = http.StatusOK
	}
	return tw.body.Write(b)
}

func (tw *timeoutWriter) WriteHeader(code int) {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	if tw.timedOut || tw.status != 0 || code < 200 {
		return
	}
	tw.status = code
}

// Committed reports whether the handler has started its response, for
// problem.Write.
func (tw *timeoutWriter) Committed() bool {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	return tw.status != 0 || tw.timedOut
}
