package problem

import (
	"context"
	"net/http"
	"sync"

	"github.com/faultline-go/faultline/internal/reqctx"
)

// NewContext returns a copy of ctx that carries rd, for Write and
// FromContext. Middleware normally does this once per request; see the
// middleware package.
func NewContext(ctx context.Context, rd *Renderer) context.Context {
	st, ctx := reqctx.EnsureContext(ctx)
	st.Renderer = rd
	return ctx
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
