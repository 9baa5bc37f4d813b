package openapi

import "github.com/faultline-go/faultline/catalog"

// Middleware names a faultline middleware, for the codes it can answer
// with. Declare a route's middleware with Route.With and its responses
// include those codes.
type Middleware int

// The faultline middleware and what they can answer with.
const (
	// RequestID (middleware.RequestID) answers with no error.
	RequestID Middleware = iota + 1
	// Recover (middleware.Recover) answers a panic, or an error that is no
	// *problem.Error, with 500 INTERNAL.
	Recover
	// KeyAuth (middleware.KeyAuth) answers 401 MISSING_AUTHORIZATION,
	// MALFORMED_CREDENTIALS or INVALID_CREDENTIALS, with WWW-Authenticate.
	KeyAuth
	// RateLimit (a ratelimit.Limiter's Handler or Route) answers 429
	// RESOURCE_EXHAUSTED, and 503 UNAVAILABLE when its store fails and
	// the limiter fails closed.
	RateLimit
	// Timeout (middleware.Timeout) answers 504 DEADLINE_EXCEEDED.
	Timeout
	// Maintenance (middleware.Maintenance) answers 503 UNAVAILABLE.
	Maintenance
	// NotFound (middleware.NotFound) answers 404 NOT_FOUND.
	NotFound
	// MethodNotAllowed (middleware.MethodNotAllowed) answers 405
	// METHOD_NOT_ALLOWED, with Allow.
	MethodNotAllowed
	// DecodeJSON (problem.DecodeJSON in a handler) answers 400
	// INVALID_ARGUMENT or INVALID_FORMAT, 408 REQUEST_TIMEOUT when the
	// body does not arrive within the server's read timeout, 413
	// PAYLOAD_TOO_LARGE and 415 UNSUPPORTED_MEDIA_TYPE.
	DecodeJSON
)

// Codes returns the catalog codes m can answer with, in status order; nil
// for RequestID and for a value that names no middleware.
func (m Middleware) Codes() []string {
	switch m {
	case Recover:
		return []string{catalog.Internal}
	case KeyAuth:
		return []string{catalog.MissingAuthorization, catalog.MalformedCredentials, catalog.InvalidCredentials}
	case RateLimit:
		return []string{catalog.ResourceExhausted, catalog.Unavailable}
	case Timeout:
		return []string{catalog.DeadlineExceeded}
	case Maintenance:
		return []string{catalog.Unavailable}
	case NotFound:
		return []string{catalog.NotFound}
	case MethodNotAllowed:
		return []string{catalog.MethodNotAllowed}
	case DecodeJSON:
		return []string{catalog.InvalidArgument, catalog.InvalidFormat, catalog.RequestTimeout,
			catalog.PayloadTooLarge, catalog.UnsupportedMediaType}
	}
	return nil
}

// String returns the middleware's name, as in the middleware package.
func (m Middleware) String() string {
	names := [...]string{"", "RequestID", "Recover", "KeyAuth", "RateLimit", "Timeout",
		"Maintenance", "NotFound", "MethodNotAllowed", "DecodeJSON"}
	if m < 1 || int(m) >= len(names) {
		return "Middleware(?)"
	}
	return names[m]
}
