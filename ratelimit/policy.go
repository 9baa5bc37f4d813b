package ratelimit

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"golang.org/x/time/rate"
)

// Policy is a token bucket: Burst tokens at most, refilled at Rate tokens per
// second, one token per request. Name identifies the policy in the
// RateLimit-Policy and RateLimit headers and in 429 details.
type Policy struct {
	// Name is a short token such as "sandbox" or "reports".
	Name string
	// Rate is the refill rate; rate.Every(d) gives one token per d, and
	// rate.Inf disables the limit.
	Rate rate.Limit
	// Burst is the bucket size: the requests a full bucket admits at once.
	Burst int
}

// Environment selects the default policy of a deployment.
type Environment string

// Deployment environments and the default policy of each.
const (
	EnvSandbox    Environment = "sandbox"
	EnvProduction Environment = "production"
)

// Sandbox returns the sandbox preset: 10 requests per second, burst 10.
func Sandbox() Policy { return Policy{Name: string(EnvSandbox), Rate: 10, Burst: 10} }

// Production returns the production preset: 25 requests per second, burst 25.
func Production() Policy { return Policy{Name: string(EnvProduction), Rate: 25, Burst: 25} }

// PolicyFor returns the preset of env; the empty environment is sandbox.
func PolicyFor(env Environment) (Policy, error) {
	switch env {
	case EnvSandbox, "":
		return Sandbox(), nil
	case EnvProduction:
		return Production(), nil
	}
	return Policy{}, fmt.Errorf("%w %q: want %q or %q", ErrUnknownEnvironment, env, EnvSandbox, EnvProduction)
}

// Maximums of a Policy: every store computes a policy within them exactly
// (tokens as float64, times as int64 nanoseconds, the Redis script's
// doubles), and every header value fits an RFC 9651 integer.
const (
	// MaxBurst is the largest Burst: 2^30 tokens.
	MaxBurst = 1 << 30
	// MaxRate is the largest finite Rate: one token per nanosecond.
	MaxRate rate.Limit = 1e9
	// MaxWindow is the longest time an empty bucket may take to refill
	// (Burst / Rate): 2^62 nanoseconds, about 146 years.
	MaxWindow = time.Duration(1 << 62)
)

// Validate reports whether p can be enforced exactly: a name of 1 to 64
// characters of [A-Za-z0-9._-]; a burst from 1 to MaxBurst; a rate that is
// rate.Inf (no limit, chosen explicitly) or finite, at most MaxRate, and
// high enough that the bucket refills within MaxWindow. The errors wrap
// ErrInvalidPolicy.
func (p Policy) Validate() error {
	if p.Name == "" || len(p.Name) > 64 {
		return fmt.Errorf("%w: name %q must have 1 to 64 characters", ErrInvalidPolicy, p.Name)
	}
	if !validName(p.Name) {
		return fmt.Errorf("%w: name %q may only hold A-Z, a-z, 0-9, '.', '_' and '-'", ErrInvalidPolicy, p.Name)
	}
	if p.Burst < 1 || p.Burst > MaxBurst {
		return fmt.Errorf("%w: %s: burst %d must be from 1 to %d", ErrInvalidPolicy, p.Name, p.Burst, MaxBurst)
	}
	if p.Rate == rate.Inf {
		return nil
	}
	if math.IsNaN(float64(p.Rate)) || p.Rate <= 0 || p.Rate > MaxRate {
		return fmt.Errorf("%w: %s: rate %v must be positive and at most %v (or rate.Inf)", ErrInvalidPolicy, p.Name, p.Rate, MaxRate)
	}
	if float64(p.Burst)/float64(p.Rate)*float64(time.Second) > float64(MaxWindow) {
		return fmt.Errorf("%w: %s: rate %v refills burst %d in more than %v", ErrInvalidPolicy, p.Name, p.Rate, p.Burst, MaxWindow)
	}
	return nil
}

// validName reports whether a policy name holds only [A-Za-z0-9._-].
func validName(name string) bool {
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Window is the time an empty bucket takes to refill completely, rounded
// up to whole seconds (at least 1): the w of the RateLimit-Policy header.
func (p Policy) Window() time.Duration {
	return ceilSeconds(durationFromTokens(p.Rate, float64(p.Burst)))
}

// String formats p as a RateLimit-Policy list item: "name";q=burst;w=window.
func (p Policy) String() string {
	return strconv.Quote(p.Name) + ";q=" + strconv.Itoa(p.Burst) + ";w=" + strconv.FormatInt(int64(p.Window()/time.Second), 10)
}

// Result is the outcome of one policy's check.
type Result struct {
	// Allowed says whether the policy admits the request.
	Allowed bool
	// Remaining is the number of whole tokens left after the decision.
	Remaining int
	// Reset is the time until the bucket is full again.
	Reset time.Duration
	// RetryAfter is, for a denied request, the time until a token is
	// available; zero when allowed.
	RetryAfter time.Duration
}

// ceilSeconds rounds d up to whole seconds, at least one second.
func ceilSeconds(d time.Duration) time.Duration {
	s := wholeSeconds(d)
	if s < 1 {
		s = 1
	}
	if s > int64(math.MaxInt64/time.Second) {
		return math.MaxInt64 / time.Second * time.Second
	}
	return time.Duration(s) * time.Second
}

// wholeSeconds is d in seconds, rounded up (without overflowing near the
// maximum duration); zero and negative durations give 0.
func wholeSeconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	s := int64(d / time.Second)
	if d%time.Second != 0 {
		s++
	}
	return s
}

// durationFromTokens is x/time/rate's conversion: the time it takes to
// accumulate tokens at limit tokens per second.
func durationFromTokens(limit rate.Limit, tokens float64) time.Duration {
	if limit <= 0 {
		return time.Duration(math.MaxInt64)
	}
	if limit == rate.Inf {
		return 0
	}
	d := (tokens / float64(limit)) * float64(time.Second)
	if d > float64(math.MaxInt64) {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(d)
}

// tokensFromDuration is x/time/rate's conversion: the tokens accumulated in
// d at limit tokens per second.
func tokensFromDuration(limit rate.Limit, d time.Duration) float64 {
	if limit <= 0 {
		return 0
	}
	return d.Seconds() * float64(limit)
}
