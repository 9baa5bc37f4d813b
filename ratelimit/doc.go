// Package ratelimit limits requests with token buckets: per API key pair
// (or client IP), with per-route policies on top, in memory or on a shared
// store, and answers a refusal with 429 RESOURCE_EXHAUSTED through the
// request's problem.Renderer.
//
// A Policy is a token bucket: Burst tokens at most, refilled at Rate
// tokens a second, one token per request. Validate bounds both, so every
// store computes every policy exactly.
//
// Handler is the middleware: it decides each request against its caller's
// policy. The caller is the principal middleware.KeyAuth authenticated,
// keyed by its key id: its Plan, then its Environment, picks the policy
// (a "production" key pair gets the 25/s preset, a "sandbox" one 10/s,
// with no code), or Config.PolicyFor computes one. A request with no
// principal is keyed by client IP under the default policy. Handler sets
// the RateLimit-Policy and RateLimit headers (one line per limiter) and,
// on a refusal, Retry-After.
//
// Route adds a policy of a route's own, on any router, as it runs in the
// chain of the routes it wraps. Mounted there instead of Handler, it
// decides the caller's policy and its own in one Store call; below
// Handler, it is a second call, and a request it refuses gets back the
// token Handler took. Either way a refusal costs no token.
//
// A Store keeps the buckets. MemoryStore (the default) is local, sharded
// and bounded; package redisstore shares buckets between replicas, one
// round trip per decision. Package storetest holds the behaviour every
// store must show.
//
// Outage says what happens while the store fails: FallBack (the default)
// decides on a local store at Config.FallbackShare of every policy, and
// advertises what it enforces; FailOpen admits, and counts what it
// admitted in its log record; FailClosed answers 503. A store bounds each
// call itself (redisstore: Config.Timeout, 50ms), and after
// Config.BreakerFailures consecutive failures, or one refused connection,
// the limiter's breaker stops asking the store, probing it once every
// Config.BreakerProbe and closing as soon as it answers.
package ratelimit
