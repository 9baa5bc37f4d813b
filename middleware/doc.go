// Package middleware holds faultline's net/http middleware. Each piece is a
// func(http.Handler) http.Handler that works with chi and plain net/http, and
// every failure any of them meets is answered through the problem.Renderer
// carried by the request, so all of a service's errors share one envelope,
// one log and one sanitizing rule.
//
// # The model
//
// A request passes through the pieces in a fixed order, each relying on the
// ones before it:
//
//  1. RequestID gives the request its id (the incoming X-Request-Id when it
//     is safe to reuse). Everything after it, error responses and log
//     records included, carries that id.
//  2. Recover(rd) installs the renderer rd in the request, for problem.Write
//     and every piece below, and turns a panic anywhere below into a
//     sanitized 500.
//  3. Maintenance answers 503 while its Switch is on.
//  4. KeyAuth authenticates the caller and puts its *Principal in the
//     request.
//  5. A rate limiter (the ratelimit package's Limiter.Handler) keys on that
//     principal, so it comes after KeyAuth.
//  6. Route pieces (Timeout, route limits) and the handler, adapted with
//     Handle when it returns an error.
//
// Stack mounts 1 and 2 and then the pieces passed to it, in the order
// given (3 to 5 above, those a service uses), in one call. A piece mounted above Recover finds no renderer: it
// answers through a default one (the problem envelope, slog.Default()),
// and problem.Write says so once per piece in the log.
//
// NotFound and MethodNotAllowed are chi's 404 and 405 handlers; ServeMux
// does the same for an http.ServeMux.
//
// A typical chi service:
//
//	r := chi.NewRouter()
//	r.Use(middleware.Stack(rd))
//	r.NotFound(middleware.NotFound)
//	r.MethodNotAllowed(middleware.MethodNotAllowed)
//	r.Get("/healthz", healthz)
//	r.Route("/v1", func(r chi.Router) {
//		r.Use(middleware.Maintenance(sw, 0), middleware.KeyAuth(keys), lim.Handler)
//		r.Get("/accounts/{id}", middleware.Handle(getAccount))
//	})
package middleware
