package reference

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/faultline-go/faultline/catalog"
	"github.com/faultline-go/faultline/problem"
)

// Content types the handler answers with.
const (
	ContentTypeJSON     = "application/json; charset=utf-8"
	ContentTypeMarkdown = "text/markdown; charset=utf-8"
)

// Handler serves the reference under mount, a path such as /errors:
//
//   - GET mount: the catalog's JSON form, or the whole Markdown reference;
//   - GET mount/<anchor>: the JSON form of one code (catalog.Code's
//     MarshalJSON), or its Markdown entry with its example bodies.
//
// The representation follows the request's Accept header, q-values
// included: Markdown when the client prefers text/markdown, JSON otherwise
// (also when it accepts neither). An unknown anchor is 404 NOT_FOUND and a
// method other than GET or HEAD 405 METHOD_NOT_ALLOWED, both written with
// problem.Write, so they come in the service's envelope. Mount it for mount
// and everything under it (chi: r.Handle(mount, h) and r.Handle(mount+"/*",
// h); net/http: mux.Handle(mount, h) and mux.Handle(mount+"/", h)).
//
// A mount is "/" or a path starting with '/' that does not end in one;
// anything else fails with an error wrapping ErrInvalidMount.
func (ref *Reference) Handler(mount string) (http.Handler, error) {
	if mount != "/" && (!strings.HasPrefix(mount, "/") || strings.HasSuffix(mount, "/") ||
		strings.ContainsAny(mount, "?#*{}")) {
		return nil, fmt.Errorf("%w %q: want a path such as /errors, without a trailing slash", ErrInvalidMount, mount)
	}
	h := &handler{
		prefix:  strings.TrimSuffix(mount, "/") + "/",
		mount:   mount,
		entries: make(map[string]entry, len(ref.codes)),
	}
	var md bytes.Buffer
	if err := ref.WriteMarkdown(&md); err != nil {
		return nil, err
	}
	h.all = entry{json: ref.json, markdown: md.Bytes()}
	for _, code := range ref.codes {
		js, err := code.MarshalJSON()
		if err != nil {
			return nil, err
		}
		h.entries[code.Anchor()] = entry{json: append(js, '\n'), markdown: ref.entryMarkdown(code)}
	}
	return h, nil
}

// notFoundMessage is the message of the 404 for an unknown anchor. It does
// not repeat the path, which the client sent.
const notFoundMessage = "No error code has this anchor."

// entry is one resource of the handler in both representations.
type entry struct{ json, markdown []byte }

type handler struct {
	mount   string
	prefix  string // mount with a trailing slash
	all     entry
	entries map[string]entry // by anchor
}

// Shared header values; never modified.
// Shared header values; never modified.
var (
	allowed      = []string{"GET, HEAD"}
	noSniff      = []string{"nosniff"}
	varyAccept   = []string{"Accept"}
	typeJSON     = []string{ContentTypeJSON}
	typeMarkdown = []string{ContentTypeMarkdown}
)

var _ http.Handler = (*handler)(nil)

// ServeHTTP answers a request for the catalog or one of its codes.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e, ok := h.lookup(r.URL.Path)
	if !ok {
		problem.Write(w, r, problem.New(catalog.NotFound, notFoundMessage))
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		problem.Write(w, r, problem.New(catalog.MethodNotAllowed, "Method "+r.Method+" is not allowed on this resource.").
			WithHeader("Allow", allowed[0]))
		return
	}
	body, ct := e.json, typeJSON
	if negotiate(r.Header.Values("Accept")) == formatMarkdown {
		body, ct = e.markdown, typeMarkdown
	}
	hd := w.Header()
	hd["Content-Type"] = ct
	hd["Vary"] = varyAccept
	hd["X-Content-Type-Options"] = noSniff
	hd["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// lookup returns the resource at path.
func (h *handler) lookup(path string) (entry, bool) {
	if path == h.mount || path == h.prefix {
		return h.all, true
	}
	anchor, ok := strings.CutPrefix(path, h.prefix)
	if !ok {
		return entry{}, false
	}
	e, ok := h.entries[anchor]
	return e, ok
}
