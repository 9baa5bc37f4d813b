// Package middleware holds faultline's net/http middleware: request ids,
// panic recovery, the error-returning handler adapter, 404/405 handlers for
// chi and http.ServeMux, timeouts and a maintenance switch. Every failure is
// answered through the problem.Renderer in the request's context, so all of
// them share one envelope.
//
// A typical chi stack:
//
//	r := chi.NewRouter()
//	r.Use(middleware.RequestID, middleware.Recover(renderer))
//	r.NotFound(middleware.NotFound)
//	r.MethodNotAllowed(middleware.MethodNotAllowed)
//	r.Get("/v1/accounts/{id}", middleware.Handle(getAccount))
package middleware
