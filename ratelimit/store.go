package ratelimit

import "context"

// Store keeps token buckets and decides requests against them. The Limiter
// is its only caller in a service; MemoryStore and the Redis store of
// package redisstore implement it, and package storetest holds the
// behaviour every implementation must show.
type Store interface {
	// Take decides one request against every check, all or nothing: each
	// check's bucket loses one token if and only if every check allows.
	// A bucket named twice in one decision (same policy and key) is one
	// bucket: it is decided once and loses at most one token. res must
	// have room for one Result per check; Take fills it in the order of
	// checks. A store that cannot decide returns an error.
	Take(ctx context.Context, checks []Check, res []Result) (allowed bool, err error)
	// Refund gives back the token an allowing Take took from each check's
	// bucket, as if that Take had never happened: the bucket refills to
	// what it would hold now, plus one token, never past its burst. It
	// fills res (one Result per check, Allowed true) with the buckets'
	// state afterwards. The Limiter refunds a request that a later policy
	// refused, so a refusal costs the request no token of any policy.
	Refund(ctx context.Context, checks []Check, res []Result) error
	// Close releases the store's resources. It is safe to call twice.
	Close() error
}

// Check is one bucket a request is decided against: the policy and the key
// (API key id, client IP, ...) the bucket belongs to. Two checks name the
// same bucket when their policies and keys are equal.
type Check struct {
	Policy Policy
	Key    string

	prep prepared // the policy's derived values, when computed ahead
}

// MaxChecks is the most checks one decision may hold.
const MaxChecks = 8

// checkArgs reports why checks and res cannot be one decision, if they
// cannot: too many checks, too few results, or a policy that Validate
// rejects (checks the Limiter built were validated when it built them).
func checkArgs(checks []Check, res []Result) error {
	if len(checks) > MaxChecks {
		return ErrTooManyPolicies
	}
	if len(res) < len(checks) {
		return ErrShortResults
	}
	for i := range checks {
		if err := checks[i].validate(); err != nil {
			return err
		}
	}
	return nil
}

// validate validates c's policy unless c was prepared, which only
// validated policies are.
func (c *Check) validate() error {
	if c.prep.hash != 0 {
		return nil
	}
	return c.Policy.Validate()
}
