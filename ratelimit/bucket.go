package ratelimit

import (
	"math"
	"time"

	"golang.org/x/time/rate"
)

// This file is the token-bucket arithmetic of MemoryStore: exactly
// golang.org/x/time/rate's reserveN with n = 1 and no wait, on a cell
// (tokens, last, full) with times in nanoseconds since the store's epoch.
// The Redis script (package redisstore) computes the same.

// prepared holds a policy's values derived once, ahead of decisions.
type prepared struct {
	hash       uint64  // policyHash of the policy; 0 when not prepared
	nsPerToken float64 // nanoseconds per token; 0 when not prepared or unlimited
}

// prepare computes the policy part of c's bucket hash and its time per
// token ahead of decisions.
func prepare(c Check) Check {
	c.prep.hash = policyHash(&c.Policy)
	c.prep.nsPerToken = 0
	if c.Policy.Rate > 0 && c.Policy.Rate != rate.Inf {
		c.prep.nsPerToken = float64(time.Second) / float64(c.Policy.Rate)
	}
	return c
}

// policyHash is FNV-1a over a policy's name, rate and burst; never 0.
func policyHash(p *Policy) uint64 {
	const prime = 1099511628211
	h := uint64(14695981039346656037)
	for i := 0; i < len(p.Name); i++ {
		h = (h ^ uint64(p.Name[i])) * prime
	}
	h = (h ^ math.Float64bits(float64(p.Rate))) * prime
	h = (h ^ uint64(p.Burst)) * prime
	if h == 0 {
		h = 1
	}
	return h
}

// advance returns the tokens cl holds at now (a full bucket when !found)
// and the time the decision counts as made at: a clock reading older than
// the bucket's last decision counts as that decision's time, and a time
// given by the caller moves the bucket's clock back, as in x/time/rate.
func advance(cl *cell, found bool, now int64, fromClock bool, p *Policy) (tokens float64, at int64) {
	burst := float64(p.Burst)
	if !found {
		return burst, now
	}
	last := cl.last
	if now < last {
		if fromClock {
			now = last
		} else {
			last = now
		}
	}
	tokens = cl.tokens
	if now > last { // most decisions on a busy key fall in the clock's same tick
		tokens += tokensFromDuration(p.Rate, time.Duration(now-last))
	}
	return min(tokens, burst), now
}

// takeToken takes one token from cl if one is there and fills r. On success
// cl holds the debited state to store; on failure cl is left untouched.
func takeToken(cl *cell, found bool, now int64, fromClock bool, c *Check, r *Result) bool {
	p := &c.Policy
	tokens, now := advance(cl, found, now, fromClock, p)
	if tokens-1 >= 0 || durationFromTokens(p.Rate, 1-tokens) <= 0 {
		*r = settle(cl, tokens-1, now, c)
		return true
	}
	*r = Result{
		Remaining:  remaining(tokens),
		Reset:      durationFromTokens(p.Rate, float64(p.Burst)-tokens),
		RetryAfter: max(durationFromTokens(p.Rate, 1-tokens), 1), // at least 1ns: a token is due
	}
	return false
}

// refund gives one token back to cl at now, never past the burst, and
// fills r with the bucket's state afterwards.
func refund(cl *cell, now int64, fromClock bool, c *Check, r *Result) {
	tokens, now := advance(cl, true, now, fromClock, &c.Policy)
	*r = settle(cl, min(tokens+1, float64(c.Policy.Burst)), now, c)
}

// settle stores tokens at now in cl, with the time the bucket is full
// again, and returns the allowing Result that describes it.
func settle(cl *cell, tokens float64, now int64, c *Check) Result {
	p := &c.Policy
	burst := float64(p.Burst)
	// Reset is not part of x/time/rate's decision, so a prepared check
	// multiplies rather than divides.
	var reset time.Duration
	if c.prep.nsPerToken > 0 {
		reset = capDuration((burst - tokens) * c.prep.nsPerToken)
	} else {
		reset = durationFromTokens(p.Rate, burst-tokens)
	}
	cl.tokens, cl.last = tokens, now
	// full errs late, never early, so that dropping a full bucket changes
	// no decision. Validate bounds reset by MaxWindow (2^62 ns), so the
	// sum cannot overflow for times within a century of the epoch; the
	// check keeps it safe beyond.
	cl.full = now + int64(capDuration(float64(reset)*(1+1.0/(1<<20))+2))
	if cl.full < now {
		cl.full = math.MaxInt64
	}
	return Result{Allowed: true, Remaining: remaining(tokens), Reset: reset}
}

// untaken is the Result of an allowing check of a decision that another
// check refused: the bucket keeps the token takeToken took from cl.
func untaken(c *Check, cl cell) Result {
	tokens := cl.tokens + 1
	return Result{
		Allowed:   true,
		Remaining: remaining(tokens),
		Reset:     durationFromTokens(c.Policy.Rate, float64(c.Policy.Burst)-tokens),
	}
}

// unlimited is the Result of a rate.Inf policy: always allowed, always full.
func unlimited(p *Policy) Result { return Result{Allowed: true, Remaining: p.Burst} }

// remaining is the whole tokens in a bucket holding tokens; Validate's
// MaxBurst keeps it far inside int.
func remaining(tokens float64) int {
	if tokens < 1 {
		return 0
	}
	return int(tokens)
}

// capDuration converts nanoseconds to a Duration, saturating at the
// maximum.
func capDuration(ns float64) time.Duration {
	if ns >= math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(ns)
}
