package middleware

import (
	"net/http"

	"github.com/faultline-go/faultline/internal/reqctx"
	"github.com/faultline-go/faultline/internal/respwriter"
	"github.com/faultline-go/faultline/problem"
)

// HandlerFunc is a handler that fails by returning an error. A non-nil error
// is answered by problem.Write: a *problem.Error as it says, anything else as
// a sanitized 500. An error returned after the handler started its response
// is only logged.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// ServeHTTP calls f and answers its error, if any.
func (f HandlerFunc) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !tracksCommit(w, r) {
		// No Recover (or Timeout) records whether the response has gone
		// out, which problem.Write must know to leave a started response
		// alone.
		rw := new(respwriter.Writer)
		rw.Reset(w)
		w = rw
	}
	if err := f(w, r); err != nil {
		problem.Write(w, r, err)
	}
}

// tracksCommit reports whether problem.Write can tell, for w and r, whether
// the response was committed: w says so itself, or a Recover wraps it.
func tracksCommit(w http.ResponseWriter, r *http.Request) bool {
	if _, ok := w.(interface{ Committed() bool }); ok {
		return true
	}
	st := reqctx.From(r.Context())
	return st != nil && st.WInUse
}

// Handle adapts an error-returning handler to http.HandlerFunc, the type chi's
// routing methods take: r.Get("/", middleware.Handle(fn)).
func Handle(f func(w http.ResponseWriter, r *http.Request) error) http.HandlerFunc {
	return HandlerFunc(f).ServeHTTP
}
