// Package client is the calling side of a faultline service, or of any
// HTTP API that answers errors in one of the five envelopes faultline
// writes (flat, google, tracked, RFC 9457 problem details, and
// google-strict, the AIP-193 error model of Google APIs).
//
// Decode turns an error response into a *Error that says the same thing
// whatever the envelope: status, canonical code, message, field
// violations, request id, exc_ id, whether the request may be retried and
// after how long. Transport is an http.RoundTripper that retries what may
// be retried (exponential backoff with full jitter, Retry-After first),
// optionally holds requests that a RateLimit header says would be refused,
// and breaks the circuit to a host that keeps failing:
//
//	tr, err := client.NewTransport(client.Config{})
//	if err != nil {
//		return err
//	}
//	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
//	resp, err := hc.Get("https://api.example.com/v1/accounts/acc_1")
//	if err != nil {
//		return err // network failure, or *CircuitOpenError
//	}
//	if err := client.Decode(resp); err != nil {
//		var apiErr *client.Error
//		if errors.As(err, &apiErr) && apiErr.Code == "NOT_FOUND" { ... }
//	}
//
// The package depends on the standard library and the module's catalog
// package only; no server package imports it.
package client

import "errors"

// Errors of the package. Configuration and parse errors wrap them with
// the offending value, so test them with errors.Is.
var (
	// ErrInvalidConfig is wrapped by NewTransport for a Config it refuses.
	ErrInvalidConfig = errors.New("client: invalid config")
	// ErrInvalidCatalog is wrapped by ParseCatalog for a catalog it cannot read.
	ErrInvalidCatalog = errors.New("client: invalid catalog")
	// ErrMalformedHeader is wrapped by ParseRateLimit and ParseRetryAfter
	// for a header value that does not follow its grammar.
	ErrMalformedHeader = errors.New("client: malformed header")
	// ErrCircuitOpen is matched by every *CircuitOpenError.
	ErrCircuitOpen = errors.New("client: circuit open")
	// ErrHeld is wrapped, together with context.DeadlineExceeded, when a
	// RateLimit hold would outlast the request's deadline.
	ErrHeld = errors.New("client: held by rate limit")
)
