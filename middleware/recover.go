package middleware

import (
	"net/http"
	"runtime/debug"

	"github.com/faultline-go/faultline/internal/reqctx"
	"github.com/faultline-go/faultline/internal/respwriter"
	"github.com/faultline-go/faultline/problem"
)

// Recover installs rd as the request's renderer (problem.Write and every
// faultline middleware inside answer through it; nil keeps the renderer
// already in the context, or the default one) and turns panics into
// sanitized 500s.
//
// http.ErrAbortHandler is re-panicked untouched. A panic after the response
// was committed writes nothing more: it is logged, with its stack, and the
// connection is aborted so the client sees a truncated response rather than
// a complete-looking one. The response writer handed to the next handler
// keeps http.Flusher, http.Hijacker, io.ReaderFrom and Unwrap (for
// http.ResponseController).
func Recover(rd *problem.Renderer) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			st, r := reqctx.Ensure(r)
			if rd != nil {
				st.Renderer = rd
			}
			rw := &st.W
			if st.WInUse {
				rw = new(respwriter.Writer) // a nested Recover
			}
			st.WInUse = true
			rw.Reset(w)
			defer func() {
				v := recover()
				if v == nil {
					return
				}
				if v == http.ErrAbortHandler {
					panic(v)
				}
				pe, ok := v.(*problem.PanicError) // re-raised by Timeout
				if !ok {
					pe = &problem.PanicError{Value: v, Stack: debug.Stack()}
				}
				committed := rw.Committed()
				problem.Write(rw, r, pe) // only logs when committed
				if committed {
					panic(http.ErrAbortHandler)
				}
			}()
			next.ServeHTTP(rw, r)
		})
	}
}
