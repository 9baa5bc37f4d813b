package openapi

import (
	"fmt"
	"slices"
	"strings"
)

// Route declares the error responses of one operation: the codes its
// handler can answer with, plus those of the faultline middleware in front
// of it (With).
type Route struct {
	// Method is the HTTP method, GET, POST, ...
	Method string
	// Path is the OpenAPI path template, /v1/accounts/{id}.
	Path string
	// Codes are the catalog codes the handler can answer with.
	Codes []string
	// Middleware are the faultline middleware in front of the handler.
	Middleware []Middleware
}

// Responses declares that the operation method path can answer with codes.
//
//	openapi.Responses("GET", "/v1/reports", catalog.PermissionDenied).
//		With(openapi.Recover, openapi.KeyAuth, openapi.RateLimit)
func Responses(method, path string, codes ...string) Route {
	return Route{Method: method, Path: path, Codes: slices.Clone(codes)}
}

// With returns a copy of r with mw added to its middleware.
func (r Route) With(mw ...Middleware) Route {
	r.Codes = slices.Clone(r.Codes)
	r.Middleware = append(slices.Clone(r.Middleware), mw...)
	return r
}

// AllCodes returns the codes of the route's handler and middleware, each
// once, in the order declared.
func (r Route) AllCodes() []string {
	var out []string
	add := func(codes []string) {
		for _, c := range codes {
			if !slices.Contains(out, c) {
				out = append(out, c)
			}
		}
	}
	for _, m := range r.Middleware {
		add(m.Codes())
	}
	add(r.Codes)
	return out
}

// operationMethod reports whether an OpenAPI path item has an operation
// for method.
func operationMethod(method string) bool {
	switch method {
	case "GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE":
		return true
	}
	return false
}

// check validates the route's method, path and middleware.
func (r Route) check() error {
	if !operationMethod(r.Method) {
		return fmt.Errorf("%w: method %q of %s: want GET, PUT, POST, DELETE, OPTIONS, HEAD, PATCH or TRACE", ErrInvalidRoute, r.Method, r.Path)
	}
	if _, err := pathParams(r.Path); err != nil {
		return err
	}
	for _, m := range r.Middleware {
		if m.String() == "Middleware(?)" {
			return fmt.Errorf("%w: %s %s: unknown middleware %d", ErrInvalidRoute, r.Method, r.Path, int(m))
		}
	}
	if len(r.AllCodes()) == 0 {
		return fmt.Errorf("%w: %s %s declares no code", ErrInvalidRoute, r.Method, r.Path)
	}
	return nil
}

// pathParams returns the names of the {parameters} of an OpenAPI path
// template, which must start with '/'.
func pathParams(path string) ([]string, error) {
	if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("%w: path %q: want a template such as /v1/accounts/{id}", ErrInvalidRoute, path)
	}
	var names []string
	for rest := path; ; {
		open := strings.IndexByte(rest, '{')
		closing := strings.IndexByte(rest, '}')
		if open < 0 && closing < 0 {
			return names, nil
		}
		if open < 0 || closing < open+2 || strings.ContainsAny(rest[open+1:closing], "{/") {
			return nil, fmt.Errorf("%w: path %q has a malformed {parameter}", ErrInvalidRoute, path)
		}
		name := rest[open+1 : closing]
		if slices.Contains(names, name) {
			return nil, fmt.Errorf("%w: path %q names {%s} twice", ErrInvalidRoute, path, name)
		}
		names = append(names, name)
		rest = rest[closing+1:]
	}
}
