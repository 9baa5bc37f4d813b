package ratelimit

import (
	"fmt"
	"net/http"
)

// Route returns middleware that adds a policy named name, with a bucket of
// its own per key, to the routes it wraps:
//
//	r.With(limiter.Route("reports", ratelimit.Policy{Rate: 2, Burst: 2})).Get("/v1/reports", reports)
//
// Mounted instead of Handler (Handler on the other routes), Route decides
// the caller's policy and its own in one Store call, all or nothing: one
// Redis command per request. Below Handler it is a second call, and a
// request the route's policy refuses gets back the token Handler took, so
// a refusal costs no token of any policy either way. Routes of one limiter
// chained directly decide together. It works the same under chi (HEAD
// under middleware.GetHead included) and http.ServeMux, as it runs in the
// chain of the route it wraps. Route panics if the policy is invalid;
// NewRoute returns the error instead.
func (l *Limiter) Route(name string, p Policy) func(http.Handler) http.Handler {
	mw, err := l.NewRoute(name, p)
	if err != nil {
		panic(err)
	}
	return mw
}

// NewRoute is Route that returns an error for an invalid policy.
func (l *Limiter) NewRoute(name string, p Policy) (func(http.Handler) http.Handler, error) {
	p.Name = name
	c, err := compile(p, l.computed.share)
	if err != nil {
		return nil, fmt.Errorf("ratelimit: Route(%q): %w", name, err)
	}
	l.routes.Add(1)
	return func(next http.Handler) http.Handler {
		if rh, ok := next.(*routeHandler); ok && rh.l == l && len(rh.policies) < MaxChecks-1 {
			return &routeHandler{l: l, policies: append([]*compiled{c}, rh.policies...), next: rh.next}
		}
		return &routeHandler{l: l, policies: []*compiled{c}, next: next}
	}, nil
}

// routeHandler decides the Route policies of one route.
type routeHandler struct {
	l        *Limiter
	policies []*compiled // at most MaxChecks-1, so the caller's fits too
	next     http.Handler
	lines    lineCache
}

func (h *routeHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d := newDecision(h.l, r)
	defer d.release()
	d.lines = &h.lines
	prior := h.l.keptDecision(r.Context())
	if prior == nil && !d.addCaller(w, r) {
		return
	}
	for _, c := range h.policies {
		d.add(c)
	}
	if d.enforce(w, r, prior) {
		h.next.ServeHTTP(w, r)
	}
}
