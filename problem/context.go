package problem

import (
	"context"
	"net/http"
	"sync"

	"github.com/faultline-go/faultline/internal/reqctx"
)

// NewContext returns a new context, derived from ctx, that carries rd for
// Write and FromContext. ctx itself is never changed: it keeps the renderer
// (and request id) it had. Middleware normally installs the renderer once per
// request; see the middleware package.
func NewContext(ctx context.Context, rd *Renderer) context.Context {
	return reqctx.WithRenderer(ctx, rd)
}

// FromContext returns the renderer carried by ctx, or nil.
func FromContext(ctx context.Context) *Renderer {
	if st := reqctx.From(ctx); st != nil {
		rd, _ := st.Renderer.(*Renderer)
		return rd
	}
	return nil
}

// defaultRenderer serves requests that carry no renderer: the problem
// envelope, the built-in catalog and slog.Default(). It is built once, on
// first use, and never changed.
var defaultRenderer = sync.OnceValue(func() *Renderer { return MustRenderer(Config{}) })

// Write answers r with err through the renderer in r's context (a default
// problem-envelope renderer when there is none). It is how plain handlers and
// other middleware fail.
func Write(w http.ResponseWriter, r *http.Request, err error) {
	rd := FromContext(r.Context())
	if rd == nil {
		rd = defaultRenderer()
	}
	rd.Write(w, r, err)
}
