package ratelimit

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	chimw "github.com/go-chi/chi/v5/middleware"
	"golang.org/x/time/rate"

	"github.com/faultline-go/faultline/catalog"
	"github.com/faultline-go/faultline/internal/reqctx"
	"github.com/faultline-go/faultline/problem"
)

// Header names written by the limiter.
const (
	HeaderRateLimit           = "RateLimit"
	HeaderRateLimitPolicy     = "RateLimit-Policy"
	HeaderXRateLimitLimit     = "X-RateLimit-Limit"
	HeaderXRateLimitRemaining = "X-RateLimit-Remaining"
	HeaderXRateLimitReset     = "X-RateLimit-Reset"
	HeaderRetryAfter          = problem.HeaderRetryAfter
)

// Canonical forms, for setting header map entries directly.
const (
	canonicalRateLimit       = "Ratelimit"
	canonicalRateLimitPolicy = "Ratelimit-Policy"
)

// Subject is what the limiter keys a request by when the request context
// holds an authenticated principal that implements it (as
// middleware.Principal does): its key id, and optionally a policy of its own
// (a plan or tier) that replaces the limiter's default policy.
type Subject interface {
	RateLimitKey() string
	RateLimitPolicy() *Policy
}

// Outage says what the limiter does when its store fails (a Redis outage,
// a timeout).
type Outage int

const (
	// FailOpen admits the request and logs the store error (at most once
	// per second). It is the default.
	FailOpen Outage = iota
	// FailClosed answers 503 UNAVAILABLE with Retry-After.
	FailClosed
	// FallBack decides against an in-memory store, each policy's rate and
	// burst scaled by Config.FallbackShare, until the store answers again.
	FallBack
)

// Config configures a Limiter. The zero value limits each key pair (or
// client IP) with the sandbox preset in memory.
type Config struct {
	// Environment picks the default policy: EnvSandbox (default) or
	// EnvProduction.
	Environment Environment
	// Policy, when set, replaces the environment's preset.
	Policy *Policy
	// Store holds the buckets; nil means a MemoryStore owned (and closed)
	// by the Limiter.
	Store Store
	// Key returns the bucket key of a request; nil means the key id of the
	// authenticated principal (see Subject) or, without one, the client IP
	// set by chi's middleware.ClientIP* (which trust only the proxies they
	// are given), else the TCP peer address. X-Forwarded-For is never read
	// here. Key ids and addresses share one key space, so key ids must not
	// be IP addresses.
	Key func(r *http.Request) string
	// LegacyHeaders adds X-RateLimit-Limit, X-RateLimit-Remaining and
	// X-RateLimit-Reset (seconds until full) for the most constraining
	// policy.
	LegacyHeaders bool
	// Outage is the behaviour when Store fails.
	Outage Outage
	// FallbackShare scales every policy under FallBack (0 < share <= 1);
	// 0 means 0.5. With N replicas sharing a store, 1/N keeps the total
	// near the shared limit.
	FallbackShare float64
	// OutageRetryAfter is the Retry-After of a FailClosed 503; 0 means 1s.
	OutageRetryAfter time.Duration
	// Logger receives store errors; nil means slog.Default().
	Logger *slog.Logger
}

// Limiter is the rate-limit middleware: Handler applies the default (or the
// principal's own) policy to every request, and Route adds per-route
// policies on top. All the policies of a request are decided in one atomic
// Store call, so a request refused by one policy uses no token of the
// others.
type Limiter struct {
	store     Store
	ownsStore bool
	policy    Policy
	policyHdr string // RateLimit-Policy item of policy
	key       func(*http.Request) string
	legacy    bool

	outage        Outage
	share         float64
	outageRetry   time.Duration
	fallback      *MemoryStore
	logger        *slog.Logger
	lastOutageLog atomic.Int64 // unix nanos of the last store-error log

	routeCount atomic.Int32 // Route middlewares created
	index      routeIndex   // Route policies per chi endpoint

	policyHdrs     sync.Map   // Policy -> string: RateLimit-Policy items of principal policies
	values         valueCache // RateLimit values of the default policy alone
	prepared       Check      // a check of the default policy, prepared
	policyHdrValue [1]string  // policyHdr, shared by responses without request state
}

// New validates cfg and returns a Limiter.
func New(cfg Config) (*Limiter, error) {
	p, err := PolicyFor(cfg.Environment)
	if err != nil {
		return nil, err
	}
	if cfg.Policy != nil {
		p = *cfg.Policy
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if cfg.Outage < FailOpen || cfg.Outage > FallBack {
		return nil, fmt.Errorf("ratelimit: unknown Outage %d", cfg.Outage)
	}
	share := cfg.FallbackShare
	if share == 0 {
		share = 0.5
	}
	if math.IsNaN(share) || share <= 0 || share > 1 {
		return nil, fmt.Errorf("ratelimit: FallbackShare %v must be in (0, 1]", share)
	}
	l := &Limiter{
		store:       cfg.Store,
		policy:      p,
		policyHdr:   p.String(),
		key:         cfg.Key,
		legacy:      cfg.LegacyHeaders,
		outage:      cfg.Outage,
		share:       share,
		outageRetry: cfg.OutageRetryAfter,
		logger:      cfg.Logger,
	}
	if l.store == nil {
		l.store = NewMemoryStore(MemoryConfig{})
		l.ownsStore = true
	}
	if l.key == nil {
		l.key = clientKey
	}
	if l.outageRetry <= 0 {
		l.outageRetry = time.Second
	}
	if l.logger == nil {
		l.logger = slog.Default()
	}
	if l.outage == FallBack {
		l.fallback = NewMemoryStore(MemoryConfig{})
	}
	l.index.init(l)
	l.values.init(p)
	l.prepared = prepare(Check{Policy: p})
	l.policyHdrValue[0] = l.policyHdr
	return l, nil
}

// MustNew is New that panics on error.
func MustNew(cfg Config) *Limiter {
	l, err := New(cfg)
	if err != nil {
		panic(err)
	}
	return l
}

// Limit returns middleware that limits each client (principal key id, else
// client IP) to rps requests per second with a burst of rps, in memory: the
// simple form of New.
func Limit(rps int) func(http.Handler) http.Handler {
	return MustNew(Config{Policy: &Policy{Name: "default", Rate: rate.Limit(rps), Burst: rps}}).Handler
}

// DefaultPolicy returns the policy applied to requests whose principal has
// none of its own.
func (l *Limiter) DefaultPolicy() Policy { return l.policy }

// Close closes the stores the limiter owns; it is safe to call twice.
func (l *Limiter) Close() error {
	var err error
	if l.ownsStore {
		err = l.store.Close()
	}
	if l.fallback != nil {
		err = errors.Join(err, l.fallback.Close())
	}
	return err
}

// Handler limits every request with the default policy (or the principal's
// own). On a chi router it also decides, in the same Store call, the Route
// policies of the endpoint the request is routed to.
func (l *Limiter) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if reqctx.From(r.Context()) == nil && l.routeCount.Load() == 0 {
			// No other faultline middleware ran and no route policies
			// exist: decide without attaching request state, which would
			// copy the request.
			if l.decideAlone(w, r) {
				next.ServeHTTP(w, r)
			}
			return
		}
		st, r := reqctx.Ensure(r)
		if st.RateLimit.Decider == nil {
			var extra *routeEntry
			routed := l.routeCount.Load() == 0
			if !routed {
				extra, routed = l.index.lookup(r)
			}
			st.RateLimit.Routed = routed
			if !l.decide(w, r, st, extra) {
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// Route returns middleware that adds a policy named name, with its own
// bucket per key, to the routes it wraps:
//
//	r.With(limiter.Route("reports", ratelimit.Policy{Rate: 2, Burst: 2})).Get(...)
//
// Under Handler on a chi router, the route's policies and the default one
// are decided together (chi routes are indexed on the first request, so
// register them before serving). Without Handler, the first Route of an
// endpoint decides the default policy and every Route policy of the
// endpoint together. Under Handler with another router, the route policies
// are decided after the default one, which a refused request has then used
// a token of. Route panics if the policy is invalid.
func (l *Limiter) Route(name string, p Policy) func(http.Handler) http.Handler {
	p.Name = name
	if err := p.Validate(); err != nil {
		panic(err)
	}
	l.routeCount.Add(1)
	return routeMiddleware(l, p)
}

// routeMiddleware returns the middleware of one Route policy. It is a
// separate function, never inlined, so that every closure it returns shares
// one code pointer, by which the route index recognises them.
//
//go:noinline
func routeMiddleware(l *Limiter, p Policy) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return &routeHandler{l: l, policy: p, next: next}
	}
}

// routeHandler is the handler of one Route policy.
type routeHandler struct {
	l      *Limiter
	policy Policy
	next   http.Handler
}

func (h *routeHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	st, r := reqctx.Ensure(r)
	rl := &st.RateLimit
	if e, ok := rl.Decider.(*routeEntry); !ok || e.l != h.l || !e.covers(h.policy) {
		// Nothing decided yet, or a decision without this Route's policy
		// (Handler under another router, or under a chi router whose
		// index did not see this Route: a Route wrapping the handler
		// itself, a path rewritten before routing): decide this Route
		// and those chained right after it.
		entry := h.l.chainEntry(h)
		if rl.Decider == nil {
			if !h.l.decide(w, r, st, entry) {
				return
			}
		} else {
			if !h.l.decideRoutesOnly(w, r, st, entry) {
				return
			}
			rl.Decider = entry
		}
		rl.Routed = true
	}
	h.next.ServeHTTP(w, r)
}

// chainEntry collects h's policy and those of the routeHandlers of the same
// limiter directly after it in the chain.
func (l *Limiter) chainEntry(h *routeHandler) *routeEntry {
	var ps []Policy
	for n := http.Handler(h); ; {
		rh, ok := n.(*routeHandler)
		if !ok || rh.l != l {
			break
		}
		ps = append(ps, rh.policy)
		n = rh.next
	}
	return l.newEntry(ps)
}

// routeEntry is the set of Route policies of one endpoint. A decision that
// covered them leaves it in the request state as the decider.
type routeEntry struct {
	l        *Limiter
	policies []Policy
	checks   []Check // policies, prepared
	header   string  // RateLimit-Policy value with the default policy first
}

// covers reports whether p is one of e's policies.
func (e *routeEntry) covers(p Policy) bool {
	for _, q := range e.policies {
		if q == p {
			return true
		}
	}
	return false
}

func (l *Limiter) newEntry(ps []Policy) *routeEntry {
	e := &routeEntry{l: l, policies: ps, header: l.policyHdr}
	for _, p := range ps {
		e.header += ", " + p.String()
		e.checks = append(e.checks, prepare(Check{Policy: p}))
	}
	return e
}

// decide checks the request's default (or principal) policy and the extra
// route policies in one store call, sets the headers, and answers 429 (or
// the outage response) itself. It reports whether the request may go on.
func (l *Limiter) decide(w http.ResponseWriter, r *http.Request, st *reqctx.State, extra *routeEntry) bool {
	st.RateLimit.Decider = l
	if extra != nil {
		st.RateLimit.Decider = extra
	}
	sc := scratchPool.Get().(*scratch)
	checks, res := &sc.checks, &sc.res
	key := l.key(r)
	base := l.policy
	header := l.policyHdr
	own := false
	if s, ok := st.Principal.(Subject); ok {
		if p := s.RateLimitPolicy(); p != nil {
			base, own = *p, true
			header = l.policyHeader(base)
		}
	}
	if own {
		checks[0] = Check{Policy: base, Key: key}
	} else {
		checks[0] = l.prepared // the default policy, its hash computed once
		checks[0].Key = key
	}
	n := 1
	if extra != nil {
		for _, c := range extra.checks {
			if n == MaxChecks {
				break
			}
			checks[n] = c
			checks[n].Key = key
			n++
		}
		if own {
			for _, p := range extra.policies {
				header += ", " + p.String()
			}
		} else {
			header = extra.header
		}
	}
	ok := l.run(w, r, st, checks[:n], res[:n], header, "")
	sc.put()
	return ok
}

// decideAlone decides the default policy for a request without request
// state (so without a principal: the key is the client's address, or what
// Config.Key returns).
func (l *Limiter) decideAlone(w http.ResponseWriter, r *http.Request) bool {
	sc := scratchPool.Get().(*scratch)
	sc.checks[0] = l.prepared
	sc.checks[0].Key = l.key(r)
	ok := l.run(w, r, nil, sc.checks[:1], sc.res[:1], l.policyHdr, "")
	sc.put()
	return ok
}

// decideRoutesOnly decides the route policies alone, for a request whose
// default policy was decided without them.
func (l *Limiter) decideRoutesOnly(w http.ResponseWriter, r *http.Request, st *reqctx.State, e *routeEntry) bool {
	sc := scratchPool.Get().(*scratch)
	checks, res := &sc.checks, &sc.res
	key := l.key(r)
	n := 0
	header := ""
	for _, c := range e.checks {
		if n == MaxChecks {
			break
		}
		checks[n] = c
		checks[n].Key = key
		if n > 0 {
			header += ", "
		}
		header += c.Policy.String()
		n++
	}
	// Keep the default policy's header items and add the route's.
	if prev := st.RateLimit.Policy[0]; prev != "" {
		header = prev + ", " + header
	}
	ok := l.run(w, r, st, checks[:n], res[:n], header, st.RateLimit.Value[0])
	sc.put()
	return ok
}

// scratch holds the checks and results of one Store call. It is pooled:
// handed to Store.Take, an interface method, arrays on the stack would
// escape to the heap, two allocations per request.
type scratch struct {
	checks [MaxChecks]Check
	res    [MaxChecks]Result
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// put returns sc to the pool, without the key strings it refers to.
func (sc *scratch) put() {
	clear(sc.checks[:])
	scratchPool.Put(sc)
}

// run takes the checks from the store (or the outage path) and writes the
// headers and, for a refusal, the error response. prevValue holds the
// RateLimit items of an earlier decision of the request, kept in front of
// this one's.
func (l *Limiter) run(w http.ResponseWriter, r *http.Request, st *reqctx.State, checks []Check, res []Result, policyHeader, prevValue string) bool {
	allowed, err := l.store.Take(r.Context(), checks, res)
	h := w.Header()
	if st != nil {
		st.RateLimit.Policy[0] = policyHeader
		h[canonicalRateLimitPolicy] = st.RateLimit.Policy[:]
	} else { // decideAlone: the default policy's header, shared; an append copies
		h[canonicalRateLimitPolicy] = l.policyHdrValue[:1:1]
	}
	if err != nil {
		var ok, answered bool
		if ok, answered = l.onStoreError(w, r, err, checks, res); answered {
			return ok
		}
		allowed = ok
	}
	v := l.values.get(prevValue, checks, res)
	if v == "" {
		v = rateLimitValue(prevValue, checks, res)
	}
	if st != nil {
		st.RateLimit.Value[0] = v
		h[canonicalRateLimit] = st.RateLimit.Value[:]
	} else {
		h[canonicalRateLimit] = []string{v}
	}
	if l.legacy {
		setLegacy(h, checks, res)
	}
	if allowed {
		return true
	}
	problem.Write(w, r, refusal(checks, res))
	return false
}

// onStoreError applies the outage policy. answered reports whether the
// request has been answered (or admitted without headers); otherwise res
// holds a decision from the fallback store and ok is its verdict.
func (l *Limiter) onStoreError(w http.ResponseWriter, r *http.Request, err error, checks []Check, res []Result) (ok, answered bool) {
	now := time.Now().UnixNano()
	if last := l.lastOutageLog.Load(); now-last >= int64(time.Second) && l.lastOutageLog.CompareAndSwap(last, now) {
		l.logger.LogAttrs(r.Context(), slog.LevelWarn, "rate limit store failed",
			slog.String("outage_policy", l.outage.String()), slog.String("error", err.Error()))
	}
	switch l.outage {
	case FailClosed:
		problem.Write(w, r, &problem.Error{
			Code:       catalog.Unavailable,
			Message:    "Rate limiting is temporarily unavailable; retry shortly.",
			RetryAfter: l.outageRetry,
			Cause:      err,
		})
		return false, true
	case FallBack:
		var scaled [MaxChecks]Check
		for i, c := range checks {
			p := c.Policy
			p.Rate = c.Policy.Rate * rate.Limit(l.share)
			p.Burst = max(1, int(math.Floor(float64(c.Policy.Burst)*l.share)))
			scaled[i] = Check{Policy: p, Key: c.Key} // not c: its prepared values are the unscaled policy's
		}
		allowed, _ := l.fallback.Take(r.Context(), scaled[:len(checks)], res)
		return allowed, false
	}
	return true, true
}

// String names the outage policy.
func (o Outage) String() string {
	switch o {
	case FailOpen:
		return "fail-open"
	case FailClosed:
		return "fail-closed"
	case FallBack:
		return "fall-back"
	}
	return "Outage(" + strconv.Itoa(int(o)) + ")"
}

// policyHeader returns the RateLimit-Policy item of a principal's policy,
// formatted once per distinct policy.
func (l *Limiter) policyHeader(p Policy) string {
	if v, ok := l.policyHdrs.Load(p); ok {
		return v.(string)
	}
	s := p.String()
	l.policyHdrs.Store(p, s)
	return s
}

// rateLimitValue formats the RateLimit header: prev's items, then one item
// per policy, "name";r=remaining;t=seconds-until-full.
func rateLimitValue(prev string, checks []Check, res []Result) string {
	var buf [256]byte
	b := append(buf[:0], prev...)
	for i := range checks {
		if len(b) > 0 {
			b = append(b, ", "...)
		}
		// Validated names need no escaping (and an unvalidated one from a
		// Subject is quoted properly).
		if validName(checks[i].Policy.Name) {
			b = append(b, '"')
			b = append(b, checks[i].Policy.Name...)
			b = append(b, '"')
		} else {
			b = strconv.AppendQuote(b, checks[i].Policy.Name)
		}
		b = append(b, ";r="...)
		b = strconv.AppendInt(b, int64(res[i].Remaining), 10)
		b = append(b, ";t="...)
		b = strconv.AppendInt(b, wholeSeconds(res[i].Reset), 10)
	}
	return string(b)
}

// valueCache holds the RateLimit header values of decisions against the
// default policy alone, one per (remaining, seconds until full), so the
// common response sets the header without formatting (and allocating) it.
type valueCache struct {
	policy Policy
	maxT   int64
	values []atomic.Pointer[string]
}

// maxCachedValues bounds the cache; larger policies format every value.
const maxCachedValues = 4096

func (c *valueCache) init(p Policy) {
	c.policy = p
	c.maxT = int64(p.Window() / time.Second)
	if n := (int64(p.Burst) + 1) * (c.maxT + 1); n <= maxCachedValues {
		c.values = make([]atomic.Pointer[string], n)
	}
}

// get returns the cached value for a lone default-policy decision, or ""
// when the decision is not one the cache covers.
func (c *valueCache) get(prev string, checks []Check, res []Result) string {
	if c.values == nil || prev != "" || len(checks) != 1 || checks[0].Policy != c.policy {
		return ""
	}
	rem, t := int64(res[0].Remaining), wholeSeconds(res[0].Reset)
	if rem < 0 || rem > int64(c.policy.Burst) || t > c.maxT {
		return ""
	}
	slot := &c.values[rem*(c.maxT+1)+t]
	if v := slot.Load(); v != nil {
		return *v
	}
	v := rateLimitValue("", checks, res)
	slot.Store(&v)
	return v
}

// setLegacy sets the X-RateLimit-* headers for the policy with the fewest
// remaining tokens.
func setLegacy(h http.Header, checks []Check, res []Result) {
	m := 0
	for i := range res {
		if res[i].Remaining < res[m].Remaining {
			m = i
		}
	}
	h.Set(HeaderXRateLimitLimit, strconv.Itoa(checks[m].Policy.Burst))
	h.Set(HeaderXRateLimitRemaining, strconv.Itoa(res[m].Remaining))
	h.Set(HeaderXRateLimitReset, strconv.FormatInt(wholeSeconds(res[m].Reset), 10))
}

// refusal is the 429 of a refused decision: Retry-After is the longest wait
// among the refusing policies, and the details name the first of them.
func refusal(checks []Check, res []Result) *problem.Error {
	var wait time.Duration
	name := ""
	for i := range res {
		if !res[i].Allowed {
			if name == "" {
				name = checks[i].Policy.Name
			}
			wait = max(wait, res[i].RetryAfter)
		}
	}
	return &problem.Error{
		Code:       catalog.ResourceExhausted,
		Message:    "Rate limit exceeded for policy " + strconv.Quote(name) + ".",
		Metadata:   map[string]string{"policy": name},
		RetryAfter: ceilSeconds(wait),
	}
}

// clientKey is the default key: the principal's key id, else the client IP.
func clientKey(r *http.Request) string {
	if st := reqctx.From(r.Context()); st != nil {
		if s, ok := st.Principal.(Subject); ok {
			return s.RateLimitKey()
		}
	}
	if ip := chimw.GetClientIPAddr(r.Context()); ip.IsValid() {
		return ip.String()
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return host
}
