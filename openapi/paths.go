package openapi

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/faultline-go/faultline/catalog"
)

// RouteResponses returns the responses object of r: one entry per status
// its codes have, a reference to the code's response when one code has the
// status, else a response listing the codes with an example of each.
func (g *Generator) RouteResponses(r Route) (map[string]any, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	byStatus := map[int][]catalog.Code{}
	for _, name := range r.AllCodes() {
		code, ok := g.cat.Lookup(name)
		if !ok || g.examples[name] == nil {
			return nil, fmt.Errorf("%w: %s %s declares %q", ErrUnknownCode, r.Method, r.Path, name)
		}
		byStatus[code.Status] = append(byStatus[code.Status], code)
	}
	out := map[string]any{}
	for status, codes := range byStatus {
		if len(codes) == 1 {
			out[strconv.Itoa(status)] = ref("responses", codes[0].Name)
			continue
		}
		names := make([]string, len(codes))
		for i, c := range codes {
			names[i] = c.Name
		}
		desc := statusText(status) + ": one of " + strings.Join(names, ", ") + "."
		out[strconv.Itoa(status)] = g.response(desc, codes)
	}
	return out, nil
}

// Document returns an OpenAPI 3.1 document with the components and, for
// each route, an operation holding its error responses (and its path
// parameters, as strings). Two routes with the same method and path fail
// with ErrInvalidRoute, as does a malformed one; a code the catalog lacks
// fails with ErrUnknownCode.
func (g *Generator) Document(routes ...Route) ([]byte, error) {
	paths := map[string]map[string]any{}
	for _, r := range routes {
		responses, err := g.RouteResponses(r)
		if err != nil {
			return nil, err
		}
		item := paths[r.Path]
		if item == nil {
			item = map[string]any{}
			paths[r.Path] = item
		}
		method := strings.ToLower(r.Method)
		if _, dup := item[method]; dup {
			return nil, fmt.Errorf("%w: %s %s declared twice", ErrInvalidRoute, r.Method, r.Path)
		}
		op := map[string]any{"responses": responses}
		if params, _ := pathParams(r.Path); len(params) > 0 {
			op["parameters"] = pathParameters(params)
		}
		item[method] = op
	}
	return json.MarshalIndent(map[string]any{
		"openapi":    Version,
		"info":       map[string]any{"title": g.title, "version": g.vers},
		"paths":      paths,
		"components": g.Components(),
	}, "", "  ")
}

func pathParameters(names []string) []any {
	out := make([]any, len(names))
	for i, n := range names {
		out[i] = map[string]any{"name": n, "in": "path", "required": true, "schema": map[string]any{"type": "string"}}
	}
	return out
}

// headerComponents are the headers the error responses carry.
func headerComponents() map[string]any {
	h := func(description string, schema map[string]any) map[string]any {
		return map[string]any{"description": description, "schema": schema}
	}
	text := map[string]any{"type": "string"}
	return map[string]any{
		"X-Request-Id":     h("The request id, the client's when valid, else a UUID.", text),
		"Retry-After":      h("Whole seconds to wait before retrying, at least 1.", map[string]any{"type": "integer", "minimum": 1}),
		"Allow":            h("The methods the resource supports.", text),
		"WWW-Authenticate": h("The authentication scheme to use: Basic.", text),
		"RateLimit":        h("The requests left in each policy that applies (IETF draft-11).", text),
		"RateLimit-Policy": h("The policies that apply to the request (IETF draft-11).", text),
	}
}

// headersFor returns the headers of a response carrying the codes named.
func headersFor(names []string) map[string]any {
	out := map[string]any{"X-Request-Id": ref("headers", "X-Request-Id")}
	for _, name := range names {
		for _, h := range codeHeaders(name) {
			out[h] = ref("headers", h)
		}
	}
	return out
}

// codeHeaders are the headers faultline sends with code beside X-Request-Id.
func codeHeaders(name string) []string {
	switch name {
	case catalog.MissingAuthorization, catalog.MalformedCredentials, catalog.InvalidCredentials:
		return []string{"WWW-Authenticate"}
	case catalog.MethodNotAllowed:
		return []string{"Allow"}
	case catalog.ResourceExhausted:
		return []string{"Retry-After", "RateLimit", "RateLimit-Policy"}
	case catalog.Unavailable:
		return []string{"Retry-After"}
	}
	return nil
}
