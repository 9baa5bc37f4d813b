package middleware

import (
	"context"
	"net/http"

	"github.com/faultline-go/faultline/internal/reqctx"
	"github.com/faultline-go/faultline/problem"
)

// HeaderRequestID is the request and response header carrying the request id.
const HeaderRequestID = problem.HeaderRequestID

// RequestID gives every request an id: the incoming X-Request-Id when it is
// 1 to 128 characters of [A-Za-z0-9._:-], otherwise a new random UUID. The id
// goes into the request context (RequestIDFromContext) and the X-Request-Id
// header of every response, success or error.
func RequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st, r := reqctx.Ensure(r)
		if st.ID == "" {
			var id string
			if v := r.Header[HeaderRequestID]; len(v) > 0 && reqctx.ValidRequestID(v[0]) {
				id = v[0]
			} else {
				id = reqctx.NewRequestID()
			}
			st.ID = id
			st.IDHeader[0] = id
		}
		w.Header()[HeaderRequestID] = st.IDHeader[:]
		next.ServeHTTP(w, r)
	})
}

// RequestIDFromContext returns the request id set by RequestID (or by the
// renderer, for an error response), or "" when there is none.
func RequestIDFromContext(ctx context.Context) string {
	if st := reqctx.From(ctx); st != nil {
		return st.ID
	}
	return ""
}
