package middleware

import (
	"net/http"
	"time"

	"github.com/faultline-go/faultline/problem"
)

// Stack returns the faultline middleware in the order they must run, as one
// middleware:
//
//  1. RequestID, so that every response and log record below has the id;
//  2. Recover(rd), which installs rd for everything below and turns
//     panics into sanitized 500s;
//  3. inner, in the order given: authentication (KeyAuth) before rate
//     limiting (a ratelimit Limiter's Handler), which keys on the
//     principal. Nil entries are skipped.
//
// A nil rd keeps the renderer already in the request, as Recover(nil)
// does. When rd has an ErrorObserver, Stack also records when each request
// started, for ErrorEvent.Latency; otherwise it costs nothing more than its
// pieces. Mount it first (r.Use(middleware.Stack(rd))), and put
// authentication and limits either in inner or on a sub-router below it;
// a piece mounted above Stack would answer without rd, which problem.Write
// reports in the log.
//
//	r := chi.NewRouter()
//	r.Use(middleware.Stack(rd, middleware.KeyAuth(keys), lim.Handler))
func Stack(rd *problem.Renderer, inner ...func(http.Handler) http.Handler) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		for i := len(inner) - 1; i >= 0; i-- {
			if inner[i] != nil {
				next = inner[i](next)
			}
		}
		h := RequestID(Recover(rd)(next))
		if rd == nil || !rd.Observes() {
			return h
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h.ServeHTTP(w, r.WithContext(problem.WithRequestStart(r.Context(), time.Now())))
		})
	}
}
