package middleware

import (
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/faultline-go/faultline/catalog"
	"github.com/faultline-go/faultline/problem"
)

// HeaderAllow is the header listing the methods a resource supports.
const HeaderAllow = "Allow"

// NotFound answers 404 NOT_FOUND. Use it as chi's NotFound handler, or
// anywhere a route does not exist.
func NotFound(w http.ResponseWriter, r *http.Request) {
	problem.Write(w, r, problem.New(catalog.NotFound, "No resource matches the request path."))
}

// MethodNotAllowed answers 405 METHOD_NOT_ALLOWED with an Allow header listing
// the methods the path is routed for. Use it as chi's MethodNotAllowed
// handler: it asks the chi router in the request context which methods match.
func MethodNotAllowed(w http.ResponseWriter, r *http.Request) {
	allow := chiAllowed(r)
	if allow == "" && chi.RouteContext(r.Context()) != nil {
		// chi sends a method it does not know here whether or not any
		// route matches the path; for a path nothing is routed for, the
		// answer is 404.
		NotFound(w, r)
		return
	}
	writeMethodNotAllowed(w, r, allow)
}

func writeMethodNotAllowed(w http.ResponseWriter, r *http.Request, allow string) {
	err := problem.New(catalog.MethodNotAllowed, "Method "+r.Method+" is not allowed on this resource.")
	err.Header = http.Header{HeaderAllow: {allow}}
	problem.Write(w, r, err)
}

// methods are the methods probed for the Allow header, in its order.
var methods = [...]string{
	http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
	http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace,
}

// chiAllowed lists the methods the chi router serving r routes r's path for.
func chiAllowed(r *http.Request) string {
	rctx := chi.RouteContext(r.Context())
	if rctx == nil || rctx.Routes == nil {
		return ""
	}
	path := r.URL.RawPath
	if path == "" {
		path = r.URL.Path
	}
	var allowed []string
	for _, m := range methods {
		if rctx.Routes.Match(chi.NewRouteContext(), m, path) {
			allowed = append(allowed, m)
		}
	}
	return strings.Join(allowed, ", ")
}

// ServeMux serves requests through mux, answering the requests mux has no
// route for in the envelope: 404 NOT_FOUND, or 405 METHOD_NOT_ALLOWED with the
// Allow header mux computes, instead of mux's plain-text replies.
func ServeMux(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern != "" || r.RequestURI == "*" {
			mux.ServeHTTP(w, r)
			return
		}
		// Ask mux's own fallback what it would answer, keeping only the
		// status and the Allow header.
		probe := &headerProbe{header: http.Header{}}
		h.ServeHTTP(probe, r)
		if probe.status == http.StatusMethodNotAllowed {
			writeMethodNotAllowed(w, r, probe.header.Get(HeaderAllow))
			return
		}
		NotFound(w, r)
	})
}

// headerProbe records a status and headers and discards the body.
type headerProbe struct {
	header http.Header
	status int
}

func (p *headerProbe) Header() http.Header { return p.header }
func (p *headerProbe) Write(b []byte) (int, error) {
	if p.status == 0 {
		p.status = http.StatusOK
	}
	return len(b), nil
}
func (p *headerProbe) WriteHeader(code int) {
	if p.status == 0 {
		p.status = code
	}
}
