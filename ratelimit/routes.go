package ratelimit

import (
	"net/http"
	"reflect"
	"sync"

	"github.com/go-chi/chi/v5"
)

// routeIndex maps the endpoints of a chi router to the Route policies in
// their middleware chains, so Handler can decide them together with the
// default policy before routing reaches them. A router is indexed on its
// first request through the limiter.
type routeIndex struct {
	l       *Limiter
	mwCode  uintptr  // code pointer of the closures routeMiddleware returns
	routers sync.Map // chi.Routes -> map[endpoint]*routeEntry
	build   sync.Mutex
	ctxs    sync.Pool // *chi.Context, for Find
}

type endpoint struct{ method, pattern string }

func (ix *routeIndex) init(l *Limiter) {
	ix.l = l
	ix.mwCode = reflect.ValueOf(routeMiddleware(nil, Policy{})).Pointer()
	ix.ctxs.New = func() any { return chi.NewRouteContext() }
}

// lookup returns the Route policies of the chi endpoint r is routed to (nil
// when it has none), and whether r is served by a chi router at all.
func (ix *routeIndex) lookup(r *http.Request) (*routeEntry, bool) {
	rctx := chi.RouteContext(r.Context())
	if rctx == nil || rctx.Routes == nil {
		return nil, false
	}
	entries := ix.entries(rctx.Routes)
	path := r.URL.RawPath
	if path == "" {
		path = r.URL.Path
	}
	tctx := ix.ctxs.Get().(*chi.Context)
	tctx.Reset()
	pattern := rctx.Routes.Find(tctx, r.Method, path)
	ix.ctxs.Put(tctx)
	if pattern == "" {
		return nil, true
	}
	return entries[endpoint{r.Method, pattern}], true
}

func (ix *routeIndex) entries(routes chi.Routes) map[endpoint]*routeEntry {
	if m, ok := ix.routers.Load(routes); ok {
		return m.(map[endpoint]*routeEntry)
	}
	ix.build.Lock()
	defer ix.build.Unlock()
	if m, ok := ix.routers.Load(routes); ok {
		return m.(map[endpoint]*routeEntry)
	}
	m := map[endpoint]*routeEntry{}
	sentinel := http.NotFoundHandler()
	_ = chi.Walk(routes, func(method, route string, _ http.Handler, mws ...func(http.Handler) http.Handler) error {
		var ps []Policy
		for _, mw := range mws {
			if reflect.ValueOf(mw).Pointer() != ix.mwCode {
				continue
			}
			if rh, ok := mw(sentinel).(*routeHandler); ok && rh.l == ix.l {
				ps = append(ps, rh.policy)
			}
		}
		if len(ps) > 0 {
			m[endpoint{method, route}] = ix.l.newEntry(ps)
		}
		return nil
	})
	ix.routers.Store(routes, m)
	return m
}
