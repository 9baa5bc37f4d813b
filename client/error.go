package client

import (
	"strconv"
	"strings"
	"time"
)

// Envelope kinds an Error can be decoded from.
const (
	// EnvelopeFlat is {"code":"BLUM-404-001","message":"..."}.
	EnvelopeFlat = "flat"
	// EnvelopeGoogle is {"error":{"code":404,"status":"NOT_FOUND",...}}
	// with plain details ({reason, description, metadata}) or none.
	EnvelopeGoogle = "google"
	// EnvelopeGoogleStrict is the AIP-193 error model of Google APIs, a
	// google.rpc.Status whose details are typed by @type (ErrorInfo,
	// BadRequest, PreconditionFailure, RetryInfo, RequestInfo): faultline's
	// google-strict envelope, and Google's own APIs.
	EnvelopeGoogleStrict = "google-strict"
	// EnvelopeTracked is {"error":{"code":"NOT_FOUND","request_id":...}}.
	EnvelopeTracked = "tracked"
	// EnvelopeProblem is RFC 9457 problem details.
	EnvelopeProblem = "problem"
	// EnvelopeNone is a body in none of the envelopes: an HTML page from a
	// proxy, plain text, truncated JSON, or nothing at all.
	EnvelopeNone = ""
)

// Header names the package reads.
const (
	HeaderRequestID      = "X-Request-Id"
	HeaderRetryAfter     = "Retry-After"
	HeaderRateLimit      = "RateLimit"
	HeaderIdempotencyKey = "Idempotency-Key"
)

// Error is an error response, decoded. Branch on Status, Code, Reason and
// Violations; log Message, RequestID and ExcID. Fields an envelope does not
// carry are left empty.
type Error struct {
	// Status is the HTTP status of the response.
	Status int
	// Code is the canonical code name (NOT_FOUND, RESOURCE_EXHAUSTED):
	// the google status, the problem code member, the tracked
	// details.reason, or what a catalog or the built-in codes map the
	// envelope's own code to. A code nothing maps is kept as the envelope
	// spells it. A body that names no code gets the built-in code of its
	// status when the status has only one (502 BAD_GATEWAY), or
	// INVALID_ARGUMENT for 400; else Code is empty (401 has three).
	Code string
	// Flat is the flat code (BLUM-404-001), from the flat envelope or, for
	// the others, from the catalog when one is given.
	Flat string
	// Envelope is the kind of body the error was decoded from: one of
	// the Envelope constants.
	Envelope string
	// Message is the human-facing message (the problem detail). Log it;
	// do not branch on it.
	Message string
	// Violations are the fields the request got wrong: the invalid fields
	// of a validation error, or the rules a request broke (AIP-193
	// PreconditionFailure, whose subject is the Field and type the
	// Reason).
	Violations []Violation
	// Reason is the machine-readable reason of a single cause: the google
	// details[].reason or AIP-193 ErrorInfo.reason, the tracked
	// details.reason.
	Reason string
	// Domain is the AIP-193 ErrorInfo.domain.
	Domain string
	// Metadata is the machine-readable context of the cause: google
	// details[].metadata or ErrorInfo.metadata (without the exc_id, which
	// is ExcID), the other members of tracked details, the extension
	// members of problem details.
	Metadata map[string]string
	// RequestID is the request id the body names, else the X-Request-Id
	// header.
	RequestID string
	// ExcID is the exc_ reference of a sanitized server error; quote it to
	// the service's operators.
	ExcID string
	// Retryable says whether the same request may be sent again: the
	// catalog's flag for Code when a catalog knows it, else whether Status
	// is 429, 500, 502, 503 or 504.
	Retryable bool
	// RetryAfter is the wait the server asked for (Retry-After, else an
	// AIP-193 RetryInfo.retryDelay), floored at zero; HasRetryAfter says
	// whether it asked.
	RetryAfter    time.Duration
	HasRetryAfter bool
	// Excerpt is the start of a body in no envelope, as valid UTF-8 and at
	// most MaxExcerpt bytes; empty for an envelope.
	Excerpt string
}

// Violation is one field the request got wrong.
type Violation struct {
	// Field names the field (symbol, items[0].qty).
	Field string
	// Reason is the machine-readable reason (MISSING_FIELD).
	Reason string
	// Description is the human-facing message.
	Description string
}

// Error returns "client: 404 NOT_FOUND: Account not found." with the
// request id and exc_ id when known.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("client: ")
	b.WriteString(strconv.Itoa(e.Status))
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if msg := e.Message; msg != "" || e.Excerpt != "" {
		if msg == "" {
			msg = strconv.Quote(e.Excerpt)
		}
		b.WriteString(": " + msg)
	}
	if e.RequestID != "" {
		b.WriteString(" (request_id " + e.RequestID + ")")
	}
	if e.ExcID != "" {
		b.WriteString(" (" + e.ExcID + ")")
	}
	return b.String()
}

// retryableStatus reports whether a status may be retried when no catalog
// says otherwise.
func retryableStatus(status int) bool {
	switch status {
	case 429, 500, 502, 503, 504:
		return true
	}
	return false
}
