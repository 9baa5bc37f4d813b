package middleware

import (
	"net/http"

	"github.com/faultline-go/faultline/problem"
)

// HandlerFunc is a handler that fails by returning an error. A non-nil error
// is answered by problem.Write: a *problem.Error as it says, anything else as
// a sanitized 500.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// ServeHTTP calls f and answers its error, if any.
func (f HandlerFunc) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := f(w, r); err != nil {
		problem.Write(w, r, err)
	}
}

// Handle adapts an error-returning handler to http.HandlerFunc, the type chi's
// routing methods take: r.Get("/", middleware.Handle(fn)).
func Handle(f func(w http.ResponseWriter, r *http.Request) error) http.HandlerFunc {
	return HandlerFunc(f).ServeHTTP
}
