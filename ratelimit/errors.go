package ratelimit

import "errors"

// Errors returned by the constructors, stores and middleware of this
// package. Constructors wrap them with the offending value, so test them
// with errors.Is.
var (
	// ErrUnknownEnvironment: an Environment with no preset.
	ErrUnknownEnvironment = errors.New("ratelimit: unknown environment")
	// ErrInvalidPolicy: a Policy that Validate rejects.
	ErrInvalidPolicy = errors.New("ratelimit: invalid policy")
	// ErrInvalidConfig: a Config field out of its documented range.
	ErrInvalidConfig = errors.New("ratelimit: invalid config")
	// ErrTooManyPolicies: more than MaxChecks checks in one decision.
	ErrTooManyPolicies = errors.New("ratelimit: too many policies for one decision")
	// ErrShortResults: fewer results than checks handed to a Store.
	ErrShortResults = errors.New("ratelimit: fewer results than checks")
	// ErrStoreUnavailable: a Store wraps it in an error that says waiting
	// would not help (a refused connection); the Limiter's breaker then
	// opens at once instead of after Config.BreakerFailures failures.
	ErrStoreUnavailable = errors.New("ratelimit: store unavailable")
	// ErrClosed: a decision asked of a store after its Close. The Limiter
	// answers it with a sanitized 500 whatever its Outage, since no
	// outage of a shared store explains it.
	ErrClosed = errors.New("ratelimit: store closed")
)
