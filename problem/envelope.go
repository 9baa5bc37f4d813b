package problem

import (
	"net/http"
	"slices"
	"time"

	"github.com/faultline-go/faultline/catalog"
	"github.com/faultline-go/faultline/internal/jsonw"
)

// Envelope turns a resolved Problem into a response body. The five built-in
// envelopes are selected by name in Config; a service can plug in its own
// through Config.Extra.
type Envelope interface {
	// Name is the name Config.Envelope selects the envelope by.
	Name() string
	// ContentType is the Content-Type of the body.
	ContentType() string
	// AppendBody appends the body for p to dst and returns the result. It
	// must not retain p or dst.
	AppendBody(dst []byte, p *Problem) []byte
}

// Problem is an error resolved against the catalog and the request: what
// an Envelope renders.
type Problem struct {
	// Code is the catalog entry; never nil.
	Code *catalog.Code
	// Status is the HTTP status (Code.Status).
	Status int
	// Message is the client-facing message, already sanitized.
	Message string
	// Reason is the reason of a single-cause detail; never empty.
	Reason string
	// Violations are the failed fields of a validation error.
	Violations []Violation
	// Metadata is extra machine-readable context.
	Metadata map[string]string
	// RequestID is the request's id.
	RequestID string
	// ExcID is the exc_ id of a sanitized internal error, else empty.
	ExcID string
	// Instance is the request path as the client sent it, percent-encoded
	// and always a valid URI reference (the problem envelope's `instance`).
	Instance string
	// Type is the problem type URI (`about:blank` unless a type base URI
	// is configured).
	Type string
	// Title is the problem envelope's title.
	Title string
	// Policies are the quota policies that refused a 429 (Error.Policies).
	Policies []string
	// RetryAfter is how long the client should wait before retrying
	// (Error.RetryAfter); 0 when the error does not say.
	RetryAfter time.Duration
	// Domain is the error domain (Config.ErrorDomain), the domain of the
	// strict google envelope's google.rpc.ErrorInfo.
	Domain string
	// DocURL is the URI of the code's documentation when Config.DocLinks
	// is set, else empty.
	DocURL string
	// Time is when the error was rendered.
	Time time.Time
}

// Names of the built-in envelopes.
const (
	EnvelopeFlat    = "flat"
	EnvelopeGoogle  = "google"
	EnvelopeTracked = "tracked"
	EnvelopeProblem = "problem"
)

// Content types of the built-in envelopes.
const (
	ContentTypeJSON    = "application/json; charset=utf-8"
	ContentTypeProblem = "application/problem+json"
)

// FlatEnvelope renders {"code":"BLUM-404-001","message":"..."}. The request
// id travels in the X-Request-Id header only; a sanitized 500's message names
// its exc_ id.
type FlatEnvelope struct{}

// Name returns "flat".
func (FlatEnvelope) Name() string { return EnvelopeFlat }

// ContentType returns application/json; charset=utf-8.
func (FlatEnvelope) ContentType() string { return ContentTypeJSON }

// AppendBody appends the flat body.
func (FlatEnvelope) AppendBody(dst []byte, p *Problem) []byte {
	dst = append(dst, `{"code":`...)
	dst = jsonw.String(dst, p.Code.Flat)
	dst = append(dst, `,"message":`...)
	if p.ExcID != "" {
		dst = jsonw.Concat(dst, p.Message, " Reference: ", p.ExcID, ".")
	} else {
		dst = jsonw.String(dst, p.Message)
	}
	return append(dst, '}')
}

// GoogleEnvelope renders the AIP-193 style
// {"error":{"code":404,"status":"NOT_FOUND","message":"...","details":[...]}}.
// details is always an array: one entry per violated field for validation
// errors, an ERROR_RECORDED entry carrying the exc_ id for sanitized 500s,
// and otherwise one entry whose reason equals the status.
type GoogleEnvelope struct{}

// Name returns "google".
func (GoogleEnvelope) Name() string { return EnvelopeGoogle }

// ContentType returns application/json; charset=utf-8.
func (GoogleEnvelope) ContentType() string { return ContentTypeJSON }

// AppendBody appends the google body.
func (GoogleEnvelope) AppendBody(dst []byte, p *Problem) []byte {
	dst = append(dst, `{"error":{"code":`...)
	dst = jsonw.Int(dst, int64(p.Status))
	dst = append(dst, `,"status":`...)
	dst = jsonw.String(dst, p.Code.Google)
	dst = append(dst, `,"message":`...)
	dst = jsonw.String(dst, p.Message)
	dst = append(dst, `,"details":[`...)
	switch {
	case p.ExcID != "":
		dst = append(dst, `{"reason":"ERROR_RECORDED","metadata":{"id":`...)
		dst = jsonw.String(dst, p.ExcID)
		dst = append(dst, `}}`...)
	case len(p.Violations) > 0:
		for i, v := range p.Violations {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"reason":`...)
			dst = jsonw.String(dst, v.Reason)
			dst = append(dst, `,"description":`...)
			dst = jsonw.String(dst, v.Description)
			dst = append(dst, `,"metadata":{"field":`...)
			dst = jsonw.String(dst, v.Field)
			dst = append(dst, `}}`...)
		}
	default:
		dst = append(dst, `{"reason":`...)
		dst = jsonw.String(dst, p.Reason)
		if len(p.Metadata) > 0 {
			dst = append(dst, `,"metadata":`...)
			dst = appendMap(dst, p.Metadata)
		}
		dst = append(dst, '}')
	}
	return append(dst, `]}}`...)
}

// TrackedEnvelope renders
// {"error":{"code":"NOT_FOUND","message":"...","details":{},"request_id":"...","timestamp":"..."}}.
// details is always an object: when the tracked code is a category that
// differs from the catalog name (INVALID_REQUEST for MISSING_FIELD,
// CONFLICT for a service's DUPLICATE_ORDER), details.reason holds the
// catalog name; validation errors list their fields under details.fields,
// sanitized 500s carry details.exc_id, with Config.DocLinks
// details.documentation_url links to the code's documentation, and
// metadata entries appear as members.
type TrackedEnvelope struct{}

// Name returns "tracked".
func (TrackedEnvelope) Name() string { return EnvelopeTracked }

// ContentType returns application/json; charset=utf-8.
func (TrackedEnvelope) ContentType() string { return ContentTypeJSON }

// AppendBody appends the tracked body.
func (TrackedEnvelope) AppendBody(dst []byte, p *Problem) []byte {
	dst = append(dst, `{"error":{"code":`...)
	dst = jsonw.String(dst, p.Code.Tracked)
	dst = append(dst, `,"message":`...)
	dst = jsonw.String(dst, p.Message)
	dst = append(dst, `,"details":{`...)
	n := 0
	if p.Code.Name != p.Code.Tracked {
		// The tracked code is a category (INVALID_REQUEST,
		// UNAUTHORIZED, ...); reason names the precise catalog code.
		dst = append(dst, `"reason":`...)
		dst = jsonw.String(dst, p.Code.Name)
		n++
	}
	if p.ExcID != "" {
		if n > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `"exc_id":`...)
		dst = jsonw.String(dst, p.ExcID)
		n++
	}
	if len(p.Violations) > 0 {
		if n > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `"fields":`...)
		dst = appendViolations(dst, p.Violations)
		n++
	}
	if p.DocURL != "" {
		if n > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `"documentation_url":`...)
		dst = jsonw.String(dst, p.DocURL)
		n++
	}
	dst = appendMembers(dst, p.Metadata, n > 0, trackedReserved)
	dst = append(dst, `},"request_id":`...)
	dst = jsonw.String(dst, p.RequestID)
	dst = append(dst, `,"timestamp":`...)
	dst = jsonw.Time(dst, p.Time)
	return append(dst, `}}`...)
}

// ProblemEnvelope renders RFC 9457 problem details (application/problem+json)
// with the extension members code (the catalog name), request_id and
// errors (the violated fields, always an array), plus exc_id for sanitized
// 500s and metadata entries as further members. A 429 whose type is
// TypeQuotaExceeded also carries violated-policies, the names of the
// refused policies (always an array).
type ProblemEnvelope struct{}

// Name returns "problem".
func (ProblemEnvelope) Name() string { return EnvelopeProblem }

// ContentType returns application/problem+json.
func (ProblemEnvelope) ContentType() string { return ContentTypeProblem }

// AppendBody appends the problem details body.
func (ProblemEnvelope) AppendBody(dst []byte, p *Problem) []byte {
	dst = append(dst, `{"type":`...)
	dst = jsonw.String(dst, p.Type)
	dst = append(dst, `,"title":`...)
	dst = jsonw.String(dst, p.Title)
	dst = append(dst, `,"status":`...)
	dst = jsonw.Int(dst, int64(p.Status))
	dst = append(dst, `,"detail":`...)
	dst = jsonw.String(dst, p.Message)
	dst = append(dst, `,"instance":`...)
	dst = jsonw.String(dst, p.Instance)
	dst = append(dst, `,"code":`...)
	dst = jsonw.String(dst, p.Code.Name)
	dst = append(dst, `,"request_id":`...)
	dst = jsonw.String(dst, p.RequestID)
	if p.ExcID != "" {
		dst = append(dst, `,"exc_id":`...)
		dst = jsonw.String(dst, p.ExcID)
	}
	dst = append(dst, `,"errors":`...)
	dst = appendViolations(dst, p.Violations)
	if p.Type == TypeQuotaExceeded {
		dst = append(dst, `,"violated-policies":`...)
		dst = appendStrings(dst, p.Policies)
	}
	dst = appendMembers(dst, p.Metadata, true, problemReserved)
	return append(dst, '}')
}

var (
	trackedReserved = []string{"reason", "exc_id", "fields", "documentation_url"}
	problemReserved = []string{"type", "title", "status", "detail", "instance", "code", "request_id", "exc_id", "errors", "violated-policies"}
)

// appendViolations appends violations as an array of
// {"field","reason","message"} objects; never null.
func appendViolations(dst []byte, vs []Violation) []byte {
	dst = append(dst, '[')
	for i, v := range vs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"field":`...)
		dst = jsonw.String(dst, v.Field)
		dst = append(dst, `,"reason":`...)
		dst = jsonw.String(dst, v.Reason)
		dst = append(dst, `,"message":`...)
		dst = jsonw.String(dst, v.Description)
		dst = append(dst, '}')
	}
	return append(dst, ']')
}

// appendStrings appends ss as a JSON array of strings; never null.
func appendStrings(dst []byte, ss []string) []byte {
	dst = append(dst, '[')
	for i, v := range ss {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = jsonw.String(dst, v)
	}
	return append(dst, ']')
}

// appendMap appends m as a JSON object with sorted keys.
func appendMap(dst []byte, m map[string]string) []byte {
	dst = append(dst, '{')
	dst = appendMembers(dst, m, false, nil)
	return append(dst, '}')
}

// appendMembers appends the entries of m, sorted by key, as object members,
// skipping reserved keys; comma says whether a member precedes them.
func appendMembers(dst []byte, m map[string]string, comma bool, reserved []string) []byte {
	if len(m) == 0 {
		return dst
	}
	// Sort the keys in a stack array: slices.Sorted(maps.Keys(m)) costs
	// four allocations per response, more than the rest of the body.
	var small [8]string
	keys := small[:0]
	if len(m) > len(small) {
		keys = make([]string, 0, len(m))
	}
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if slices.Contains(reserved, k) {
			continue
		}
		if comma {
			dst = append(dst, ',')
		}
		comma = true
		dst = jsonw.Key(dst, k)
		dst = jsonw.String(dst, m[k])
	}
	return dst
}

// appendBody calls env.AppendBody. The built-in envelopes are called
// directly, so that p can stay on the caller's stack; an envelope of the
// service's own is called through the interface, with a copy of p.
func appendBody(env Envelope, dst []byte, p *Problem) []byte {
	switch e := env.(type) {
	case FlatEnvelope:
		return e.AppendBody(dst, p)
	case GoogleEnvelope:
		return e.AppendBody(dst, p)
	case TrackedEnvelope:
		return e.AppendBody(dst, p)
	case ProblemEnvelope:
		return e.AppendBody(dst, p)
	case GoogleStrictEnvelope:
		return e.AppendBody(dst, p)
	}
	q := *p
	return env.AppendBody(dst, &q)
}

// builtinEnvelopes returns the five built-in envelopes.
func builtinEnvelopes() []Envelope {
	return []Envelope{FlatEnvelope{}, GoogleEnvelope{}, TrackedEnvelope{}, ProblemEnvelope{}, GoogleStrictEnvelope{}}
}

// statusTitle is the problem title for about:blank types: the status text.
func statusTitle(status int) string {
	if t := http.StatusText(status); t != "" {
		return t
	}
	return "Error"
}
