package ratelimit

import (
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/faultline-go/faultline/middleware"
)

// Config configures a Limiter. The zero value limits every authenticated
// key pair by its environment's preset (sandbox 10/s, production 25/s) and
// every anonymous client by the sandbox preset, in memory; a Store that
// fails is replaced by a local fallback at half of each policy.
type Config struct {
	// Policy is the policy of requests without a principal, and of
	// principals that Plans, Environments and PolicyFor do not map. The
	// zero Policy means the preset of Environment.
	Policy Policy
	// Environment picks Policy's preset when Policy is zero: EnvSandbox
	// (the default) or EnvProduction.
	Environment Environment
	// Environments maps a principal's Environment to its policy; nil means
	// Presets(): "sandbox" to Sandbox() and "production" to Production().
	Environments map[string]Policy
	// Plans maps a principal's Plan to its policy, which wins over the
	// environment's. Every policy of Plans and Environments is validated
	// by New.
	Plans map[string]Policy
	// PolicyFor, when set, is asked first for every authenticated request;
	// ok false moves on to Plans and Environments. A policy it computes is
	// validated on every request: an invalid one answers a sanitized 500
	// (and is logged once), never "unlimited". It must be fast and must
	// not block: it runs on every request.
	PolicyFor func(r *http.Request, p *middleware.Principal) (policy Policy, ok bool)
	// Store holds the buckets; nil means a MemoryStore owned (and closed)
	// by the Limiter.
	Store Store
	// Key returns the bucket key of a request; nil means the key id of
	// the authenticated principal or, without one, the client IP (see
	// ClientKey).
	Key func(r *http.Request) string
	// LegacyHeaders adds X-RateLimit-Limit, X-RateLimit-Remaining and
	// X-RateLimit-Reset (seconds until full) for the most constraining
	// policy.
	LegacyHeaders bool
	// Outage is what the limiter does while Store fails; the zero value
	// is FallBack.
	Outage Outage
	// FallbackShare scales every policy's rate and burst under FallBack
	// (0 < share <= 1); 0 means 0.5. With N replicas sharing a store, 1/N
	// keeps their total near the shared limit.
	FallbackShare float64
	// OutageRetryAfter is the Retry-After of a FailClosed 503; 0 means 1s.
	OutageRetryAfter time.Duration
	// BreakerFailures is how many consecutive store failures open the
	// breaker; 0 means 3. A failure that says the store is unreachable
	// (ErrStoreUnavailable) opens it at once.
	BreakerFailures int
	// BreakerProbe is how long an open breaker answers every request by
	// the Outage behaviour before it lets one request probe the store
	// again; 0 means 1s.
	BreakerProbe time.Duration
	// Logger receives store failures, breaker changes and invalid
	// policies; nil means slog.Default().
	Logger *slog.Logger
	// Observer, when set, is called for every decision (see
	// DecisionObserver); nil costs nothing.
	Observer DecisionObserver
	// Now returns the current time, for the breaker; nil means time.Now.
	Now func() time.Time
}

// Limiter is the rate-limit middleware. Handler decides every request
// against the policy of its caller (a key pair's environment or plan, else
// the default policy), keyed by the caller's key id or client IP; Route
// adds a policy of its own to the routes it wraps. A request refused by any
// policy is answered 429 RESOURCE_EXHAUSTED through the request's
// problem.Renderer and takes no token from any bucket.
//
// A Limiter is safe for concurrent use. Close releases the store it owns.
type Limiter struct {
	store     Store
	ownsStore bool
	key       func(*http.Request) string // nil: clientKey
	legacy    bool

	policy       *compiled            // the default policy
	plans        map[string]*compiled // by Principal.Plan; never modified after New
	environments map[string]*compiled // by Principal.Environment; never modified after New
	policyFor    func(*http.Request, *middleware.Principal) (Policy, bool)
	computed     policyCache // compiled results of policyFor

	routes atomic.Int32 // Route middlewares made: Handler keeps a record only when there are any

	observer DecisionObserver

	outage outageHandler
}

// New validates cfg and returns a Limiter. Every error wraps
// ErrInvalidPolicy, ErrUnknownEnvironment or ErrInvalidConfig.
func New(cfg Config) (*Limiter, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	l := &Limiter{
		store:     cfg.Store,
		key:       cfg.Key,
		legacy:    cfg.LegacyHeaders,
		policyFor: cfg.PolicyFor,
		observer:  cfg.Observer,
	}
	share := cfg.FallbackShare
	if share == 0 {
		share = 0.5
	}
	def := cfg.Policy
	if def == (Policy{}) {
		def, _ = PolicyFor(cfg.Environment) // validated above
	}
	var err error
	if l.policy, err = compile(def, share); err != nil {
		return nil, err
	}
	if l.environments, err = compileMap("Environments", orPresets(cfg.Environments), share); err != nil {
		return nil, err
	}
	if l.plans, err = compileMap("Plans", cfg.Plans, share); err != nil {
		return nil, err
	}
	l.computed.share = share
	if l.store == nil {
		l.store = NewMemoryStore(MemoryConfig{})
		l.ownsStore = true
	}
	l.outage.init(cfg)
	return l, nil
}

// validate checks the fields of cfg that New does not compile.
func (cfg *Config) validate() error {
	if _, err := PolicyFor(cfg.Environment); err != nil {
		return err
	}
	if cfg.Outage < FallBack || cfg.Outage > FailClosed {
		return fmt.Errorf("%w: unknown Outage %d", ErrInvalidConfig, cfg.Outage)
	}
	if s := cfg.FallbackShare; math.IsNaN(s) || s < 0 || s > 1 {
		return fmt.Errorf("%w: FallbackShare %v must be in (0, 1]", ErrInvalidConfig, s)
	}
	if cfg.OutageRetryAfter < 0 || cfg.BreakerProbe < 0 || cfg.BreakerFailures < 0 {
		return fmt.Errorf("%w: OutageRetryAfter, BreakerProbe and BreakerFailures must not be negative", ErrInvalidConfig)
	}
	return nil
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
// simple form of New. It panics unless 1 <= rps <= MaxBurst.
func Limit(rps int) func(http.Handler) http.Handler {
	p := Policy{Name: "default", Rate: rate.Limit(rps), Burst: rps}
	return MustNew(Config{Policy: p, Environments: map[string]Policy{}}).Handler
}

// DefaultPolicy returns the policy of requests whose principal maps to no
// policy of its own.
func (l *Limiter) DefaultPolicy() Policy { return l.policy.policy }

// Close closes the stores the limiter owns; it is safe to call twice.
func (l *Limiter) Close() error {
	err := l.outage.close()
	if l.ownsStore {
		if cerr := l.store.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// Handler limits every request with its caller's policy. A refused request
// is answered 429 and goes no further.
func (l *Limiter) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d := newDecision(l, r)
		defer d.release()
		if !d.addCaller(w, r) || !d.enforce(w, r, nil) {
			return
		}
		if l.routes.Load() > 0 {
			// A Route of this limiter may follow: it refunds this
			// decision's tokens if it refuses.
			r = d.keep(r)
		}
		next.ServeHTTP(w, r)
	})
}
