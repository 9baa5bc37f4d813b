package ratelimit

import (
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/faultline-go/faultline/middleware"
)

// compiled is a validated policy with everything a decision needs of it
// computed once: the prepared check, its RateLimit-Policy item, a cache of
// its RateLimit values, and the scaled policy that FallBack enforces.
type compiled struct {
	policy   Policy
	check    Check     // prepared; Key unset
	field    [1]string // RateLimit-Policy item, shared by every response (cap 1: an append copies)
	values   valueCache
	fallback *compiled // the policy scaled by the fallback share; nil for the scaled policy itself
}

// compile validates p and compiles it, with its fallback scaled by share.
func compile(p Policy, share float64) (*compiled, error) {
	c, err := compileOne(p)
	if err != nil {
		return nil, err
	}
	c.fallback = c
	if share < 1 && p.Rate != rate.Inf {
		if c.fallback, err = compileOne(scale(p, share)); err != nil {
			return nil, fmt.Errorf("%w (fallback share %v of %s)", err, share, p.Name)
		}
	}
	return c, nil
}

// scale returns p with its rate and burst scaled by share, the burst at
// least 1 and the rate high enough to refill within MaxWindow.
func scale(p Policy, share float64) Policy {
	p.Burst = max(1, int(math.Floor(float64(p.Burst)*share)))
	minRate := float64(p.Burst) * float64(time.Second) / float64(MaxWindow)
	p.Rate = rate.Limit(max(float64(p.Rate)*share, minRate))
	return p
}

func compileOne(p Policy) (*compiled, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	c := &compiled{policy: p, check: prepare(Check{Policy: p})}
	c.field[0] = p.String()
	c.values.init(p)
	return c, nil
}

// compileMap compiles every policy of m; name is the Config field, for
// errors. A policy without a name takes its key.
func compileMap(name string, m map[string]Policy, share float64) (map[string]*compiled, error) {
	out := make(map[string]*compiled, len(m))
	for k, p := range m {
		if p.Name == "" {
			p.Name = k
		}
		c, err := compile(p, share)
		if err != nil {
			return nil, fmt.Errorf("%w (Config.%s[%q])", err, name, k)
		}
		out[k] = c
	}
	return out, nil
}

// Presets returns the environment presets: "sandbox" to Sandbox() and
// "production" to Production(). It returns a new map on every call.
func Presets() map[string]Policy {
	return map[string]Policy{string(EnvSandbox): Sandbox(), string(EnvProduction): Production()}
}

func orPresets(m map[string]Policy) map[string]Policy {
	if m == nil {
		return Presets()
	}
	return m
}

// callerPolicy returns the policy of r's caller p: PolicyFor's, else its
// plan's, else its environment's, else the default. An invalid policy
// from PolicyFor is an error, answered as a sanitized 500.
func (l *Limiter) callerPolicy(r *http.Request, p *middleware.Principal) (*compiled, error) {
	if p == nil {
		return l.policy, nil
	}
	if l.policyFor != nil {
		if pol, ok := l.policyFor(r, p); ok {
			return l.computed.get(pol, l.outage.logger)
		}
	}
	if p.Plan != "" {
		if c, ok := l.plans[p.Plan]; ok {
			return c, nil
		}
	}
	if c, ok := l.environments[p.Environment]; ok {
		return c, nil
	}
	return l.policy, nil
}

// policyCache compiles the policies PolicyFor returns, keeping up to
// maxComputed of them (and as many invalid ones, each logged once) so a
// service with a few plans compiles each once, and one that computes a new
// policy per request costs a compilation per request, not unbounded memory.
type policyCache struct {
	share   float64
	valid   sync.Map // policyKey -> *compiled
	invalid sync.Map // policyKey -> error, logged when stored
	n       atomic.Int32
}

// policyKey identifies a policy as a map key: by its rate's bits, as a
// NaN rate is not equal to itself.
type policyKey struct {
	name  string
	rate  uint64
	burst int
}

const maxComputed = 256

func (pc *policyCache) get(p Policy, logger *slog.Logger) (*compiled, error) {
	k := policyKey{p.Name, math.Float64bits(float64(p.Rate)), p.Burst}
	if c, ok := pc.valid.Load(k); ok {
		return c.(*compiled), nil
	}
	if err, ok := pc.invalid.Load(k); ok {
		return nil, err.(error)
	}
	c, err := compile(p, pc.share)
	if err != nil {
		err = fmt.Errorf("ratelimit: PolicyFor: %w", err)
		if pc.n.Add(1) <= maxComputed {
			if _, dup := pc.invalid.LoadOrStore(k, err); !dup {
				logger.Error("rate limit policy invalid", slog.String("error", err.Error()))
			}
		}
		return nil, err
	}
	if pc.n.Add(1) <= maxComputed {
		pc.valid.Store(k, c)
	}
	return c, nil
}
