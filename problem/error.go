package problem

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/faultline-go/faultline/catalog"
)

// Error is an error a client is meant to see: a catalog code, a message,
// structured details and, never serialized, the cause. Return it (or wrap it
// with fmt.Errorf("...: %w", err)) from a handler and the Renderer turns it
// into the configured envelope.
type Error struct {
	// Code is the catalog name of the error, e.g. catalog.NotFound.
	Code string
	// Message is the client-facing message; empty means the catalog's
	// default message for Code.
	Message string
	// Reason overrides the reason of a single-cause detail (google's
	// details[0].reason); empty means the code's google status.
	Reason string
	// Violations lists the fields that failed validation.
	Violations []Violation
	// Metadata is extra machine-readable context, rendered where the
	// envelope has a place for it.
	Metadata map[string]string
	// Header holds extra response headers (Allow, WWW-Authenticate, ...).
	Header http.Header
	// RetryAfter, when positive, is sent as a Retry-After header in whole
	// seconds, rounded up.
	RetryAfter time.Duration
	// Policies names the quota policies that refused the request, for a
	// 429. The problem envelope lists them in the violated-policies member
	// of the rate-limit draft's problem type (see TypeQuotaExceeded); the
	// other envelopes have no place for them and show Metadata instead.
	Policies []string
	// Cause is the underlying error. It is logged and never sent.
	Cause error
}

// Violation is one field that failed validation.
type Violation struct {
	// Field is the field's name, as the client spelled it (JSON name,
	// dotted for nested fields).
	Field string
	// Reason is machine-readable: catalog.MissingField,
	// catalog.InvalidFormat, or a reason of the service's own.
	Reason string
	// Description is a human-readable explanation.
	Description string
}

// New returns an error with the given code and message (empty for the
// catalog's default).
func New(code, message string) *Error {
	return &Error{Code: code, Message: message}
}

// Newf is New with a formatted message.
func Newf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an error with the given code and message that wraps cause.
// The cause is logged, never shown to the client.
func Wrap(cause error, code, message string) *Error {
	return &Error{Code: code, Message: message, Cause: cause}
}

// Internal returns a sanitized internal error wrapping cause: the client
// sees a generic message and an exc_ id, the log sees cause.
func Internal(cause error) *Error {
	return &Error{Code: catalog.Internal, Cause: cause}
}

// MissingField returns a 400 MISSING_FIELD error naming field.
func MissingField(field string) *Error {
	return Validation(Violation{Field: field, Reason: catalog.MissingField,
		Description: "Missing required field: " + field + "."})
}

// InvalidFormat returns a 400 INVALID_FORMAT error naming field.
func InvalidFormat(field, description string) *Error {
	return Validation(Violation{Field: field, Reason: catalog.InvalidFormat, Description: description})
}

// Invalid returns a 400 INVALID_ARGUMENT error about one field, with
// description as the message.
func Invalid(field, description string) *Error {
	return Validation(Violation{Field: field, Reason: catalog.InvalidArgument, Description: description})
}

// Validation returns a 400 error for the given violations. A single
// violation whose reason is MISSING_FIELD or INVALID_FORMAT takes that code,
// any other single violation INVALID_ARGUMENT, and several violations
// INVALID_ARGUMENT with one detail per field. The message names the fields.
func Validation(violations ...Violation) *Error {
	e := &Error{Code: catalog.InvalidArgument, Violations: violations}
	switch len(violations) {
	case 0:
	case 1:
		v := violations[0]
		if v.Reason == catalog.MissingField || v.Reason == catalog.InvalidFormat {
			e.Code = v.Reason
		}
		e.Message = v.Description
		if e.Message == "" {
			e.Message = "Invalid field: " + v.Field + "."
		}
	default:
		var b strings.Builder
		b.WriteString("Request validation failed for fields: ")
		for i, v := range violations {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(v.Field)
		}
		b.WriteByte('.')
		e.Message = b.String()
	}
	return e
}

// Error returns the code, the message and the cause, for logs. It is not
// what the client sees.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Code)
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Cause != nil {
		b.WriteString(": ")
		b.WriteString(e.Cause.Error())
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Cause }

// Is reports whether target is an *Error with the same code, so
// errors.Is(err, problem.New(catalog.NotFound, "")) tests for a code
// anywhere in a chain.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t != nil && t.Code == e.Code
}

// WithMeta sets a metadata entry and returns e.
func (e *Error) WithMeta(key, value string) *Error {
	if e.Metadata == nil {
		e.Metadata = make(map[string]string, 2)
	}
	e.Metadata[key] = value
	return e
}

// WithHeader adds a response header and returns e.
func (e *Error) WithHeader(key, value string) *Error {
	if e.Header == nil {
		e.Header = make(http.Header, 1)
	}
	e.Header.Add(key, value)
	return e
}

// WithRetryAfter sets RetryAfter and returns e.
func (e *Error) WithRetryAfter(d time.Duration) *Error {
	e.RetryAfter = d
	return e
}

// WithPolicies sets Policies, the names of the quota policies that refused
// the request, and returns e.
func (e *Error) WithPolicies(names ...string) *Error {
	e.Policies = names
	return e
}

// WithCause sets the cause and returns e.
func (e *Error) WithCause(err error) *Error {
	e.Cause = err
	return e
}

// CodeOf returns the code of the first *Error in err's chain, or "" when
// there is none.
func CodeOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}
