package problem

import (
	"context"
	"log/slog"
	"net/http"
	"runtime"
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

// fallback serves requests that carry no renderer: the problem envelope,
// the built-in catalog and slog.Default(). It is built once, on first use,
// and never changed but for the set of call sites it has warned about.
var fallback = sync.OnceValue(func() *fallbackRenderer {
	return &fallbackRenderer{rd: MustRenderer(Config{})}
})

// fallbackRenderer is the renderer of requests without one, and the call
// sites of Write that it has said so for.
type fallbackRenderer struct {
	rd     *Renderer
	warned sync.Map // program counter of a Write caller -> struct{}; grows with call sites, not requests
}

// Write answers r with err through the renderer in r's context. It is how
// plain handlers and other middleware fail.
//
// A request without a renderer (no middleware.Stack or Recover ran before
// the caller) is answered by a default one: the problem envelope, the
// built-in catalog and slog.Default(). That is almost always a middleware
// mounted in the wrong order, so the first such request from each caller of
// Write is logged as a warning to slog.Default(), naming the caller.
func Write(w http.ResponseWriter, r *http.Request, err error) {
	rd := FromContext(r.Context())
	if rd == nil {
		fb := fallback()
		fb.warn(r)
		rd = fb.rd
	}
	rd.Write(w, r, err)
}

// warn logs, once per caller of Write, that r reached it without a
// renderer.
func (fb *fallbackRenderer) warn(r *http.Request) {
	pc, _, _, ok := runtime.Caller(2) // warn's caller is Write; Write's is the one to name
	if !ok {
		return
	}
	if _, seen := fb.warned.LoadOrStore(pc, struct{}{}); seen {
		return
	}
	caller := "unknown"
	if fn := runtime.FuncForPC(pc); fn != nil {
		caller = fn.Name()
	}
	slog.Default().LogAttrs(r.Context(), slog.LevelWarn,
		"problem: no renderer in the request context; answering with the default problem-envelope renderer "+
			"and slog.Default(); mount middleware.Stack (or Recover) outside this handler",
		slog.String("caller", caller), slog.String("method", r.Method), slog.String("path", r.URL.Path))
}
