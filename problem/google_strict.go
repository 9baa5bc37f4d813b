package problem

import (
	"net/http"
	"strconv"
	"time"

	"github.com/faultline-go/faultline/internal/jsonw"
)

// EnvelopeGoogleStrict names GoogleStrictEnvelope.
const EnvelopeGoogleStrict = "google-strict"

// GoogleStrictEnvelope renders the error model of Google APIs (AIP-193)
// exactly as Google's client libraries parse it: a google.rpc.Status in
// JSON,
//
//	{"error":{"code":429,"message":"...","status":"RESOURCE_EXHAUSTED","details":[
//	  {"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"RESOURCE_EXHAUSTED","domain":"orders.example.com","metadata":{"policy":"reports"}},
//	  {"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"2s"},
//	  {"@type":"type.googleapis.com/google.rpc.RequestInfo","requestId":"..."}]}}
//
// code is the HTTP status and status the google.rpc.Code name of that
// status (GRPCCodeName), so that a client library can decode it into its
// enum. details always begins with a google.rpc.ErrorInfo whose reason is
// the catalog name, domain Config.ErrorDomain and metadata the error's
// metadata (with exc_id for a sanitized 500). A validation error (400)
// adds a google.rpc.BadRequest with one fieldViolations entry per field
// (field, description, reason), violations of another status (a 422
// business rule) a google.rpc.PreconditionFailure (type the reason,
// subject the field), an error with a retry delay a google.rpc.RetryInfo
// (retryDelay as a protobuf Duration, "1.500s"), every error a
// google.rpc.RequestInfo with the request id, and, with Config.DocLinks, a
// google.rpc.Help linking to the code's documentation.
//
// Unlike GoogleEnvelope, which follows the BlooBank document (status is the
// catalog's google name, details carry reason/description/metadata without
// @type), this form holds nothing a protobuf JSON parser would reject. It
// needs Config.ErrorDomain.
type GoogleStrictEnvelope struct{}

// Name returns "google-strict".
func (GoogleStrictEnvelope) Name() string { return EnvelopeGoogleStrict }

// ContentType returns application/json; charset=utf-8.
func (GoogleStrictEnvelope) ContentType() string { return ContentTypeJSON }

// typeURLPrefix is the prefix of a google.protobuf.Any type URL.
const typeURLPrefix = `{"@type":"type.googleapis.com/google.rpc.`

// AppendBody appends the google.rpc.Status body.
func (GoogleStrictEnvelope) AppendBody(dst []byte, p *Problem) []byte {
	dst = append(dst, `{"error":{"code":`...)
	dst = jsonw.Int(dst, int64(p.Status))
	dst = append(dst, `,"message":`...)
	dst = jsonw.String(dst, p.Message)
	dst = append(dst, `,"status":"`...)
	dst = append(dst, GRPCCodeName(p.Status)...)
	dst = append(dst, `","details":[`...)
	dst = appendErrorInfo(dst, p)
	switch {
	case len(p.Violations) == 0:
	case p.Status == http.StatusBadRequest:
		dst = appendBadRequest(dst, p.Violations)
	default:
		dst = appendPreconditionFailure(dst, p.Violations)
	}
	if p.RetryAfter > 0 {
		dst = append(dst, `,`+typeURLPrefix+`RetryInfo","retryDelay":"`...)
		dst = appendDuration(dst, p.RetryAfter)
		dst = append(dst, `"}`...)
	}
	if p.RequestID != "" {
		dst = append(dst, `,`+typeURLPrefix+`RequestInfo","requestId":`...)
		dst = jsonw.String(dst, p.RequestID)
		dst = append(dst, '}')
	}
	if p.DocURL != "" {
		dst = append(dst, `,`+typeURLPrefix+`Help","links":[{"description":`...)
		dst = jsonw.Concat(dst, "Documentation of ", p.Code.Name, ".")
		dst = append(dst, `,"url":`...)
		dst = jsonw.String(dst, p.DocURL)
		dst = append(dst, `}]}`...)
	}
	return append(dst, `]}}`...)
}

// appendBadRequest appends the google.rpc.BadRequest detail of a
// validation error: one fieldViolations entry per field.
func appendBadRequest(dst []byte, vs []Violation) []byte {
	dst = append(dst, `,`+typeURLPrefix+`BadRequest","fieldViolations":[`...)
	for i, v := range vs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"field":`...)
		dst = jsonw.String(dst, v.Field)
		dst = append(dst, `,"description":`...)
		dst = jsonw.String(dst, v.Description)
		dst = append(dst, `,"reason":`...)
		dst = jsonw.String(dst, v.Reason)
		dst = append(dst, '}')
	}
	return append(dst, `]}`...)
}

// appendPreconditionFailure appends the google.rpc.PreconditionFailure
// detail of an error with violations whose status is not 400 (a business
// rule, 422): type the reason, subject the field.
func appendPreconditionFailure(dst []byte, vs []Violation) []byte {
	dst = append(dst, `,`+typeURLPrefix+`PreconditionFailure","violations":[`...)
	for i, v := range vs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"type":`...)
		dst = jsonw.String(dst, v.Reason)
		dst = append(dst, `,"subject":`...)
		dst = jsonw.String(dst, v.Field)
		dst = append(dst, `,"description":`...)
		dst = jsonw.String(dst, v.Description)
		dst = append(dst, '}')
	}
	return append(dst, `]}`...)
}

// appendErrorInfo appends the google.rpc.ErrorInfo detail.
func appendErrorInfo(dst []byte, p *Problem) []byte {
	dst = append(dst, typeURLPrefix+`ErrorInfo","reason":`...)
	dst = jsonw.String(dst, p.Code.Name)
	dst = append(dst, `,"domain":`...)
	dst = jsonw.String(dst, p.Domain)
	if len(p.Metadata) == 0 && p.ExcID == "" {
		return append(dst, '}')
	}
	dst = append(dst, `,"metadata":{`...)
	comma := false
	if p.ExcID != "" {
		dst = append(dst, `"exc_id":`...)
		dst = jsonw.String(dst, p.ExcID)
		comma = true
	}
	dst = appendMembers(dst, p.Metadata, comma, strictReserved)
	return append(dst, `}}`...)
}

var strictReserved = []string{"exc_id"}

// appendDuration appends d in the JSON form of google.protobuf.Duration:
// seconds with 0, 3, 6 or 9 fractional digits and an "s" ("2s", "1.500s").
func appendDuration(dst []byte, d time.Duration) []byte {
	dst = strconv.AppendInt(dst, int64(d/time.Second), 10)
	if ns := int64(d % time.Second); ns != 0 {
		digits := 9
		for digits > 3 && ns%1000 == 0 {
			ns /= 1000
			digits -= 3
		}
		dst = append(dst, '.')
		frac := strconv.AppendInt(make([]byte, 0, 9), ns, 10)
		for range digits - len(frac) {
			dst = append(dst, '0')
		}
		dst = append(dst, frac...)
	}
	return append(dst, 's')
}

// GRPCCodeName returns the google.rpc.Code name of an HTTP status, by the
// mapping Google's client libraries use to go from an HTTP response to a
// gRPC code (gax-go's apierror; google/rpc/code.proto documents the other
// direction): 400 INVALID_ARGUMENT, 401 UNAUTHENTICATED, 403
// PERMISSION_DENIED, 404 NOT_FOUND, 409 ABORTED, 416 OUT_OF_RANGE, 429
// RESOURCE_EXHAUSTED, 499 CANCELLED, 501 UNIMPLEMENTED, 503 UNAVAILABLE,
// 504 DEADLINE_EXCEEDED; any other 4xx FAILED_PRECONDITION, any other 5xx
// INTERNAL, anything else UNKNOWN.
func GRPCCodeName(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "INVALID_ARGUMENT"
	case http.StatusUnauthorized:
		return "UNAUTHENTICATED"
	case http.StatusForbidden:
		return "PERMISSION_DENIED"
	case http.StatusNotFound:
		return "NOT_FOUND"
	case http.StatusConflict:
		return "ABORTED"
	case http.StatusRequestedRangeNotSatisfiable:
		return "OUT_OF_RANGE"
	case http.StatusTooManyRequests:
		return "RESOURCE_EXHAUSTED"
	case 499: // client closed request
		return "CANCELLED"
	case http.StatusNotImplemented:
		return "UNIMPLEMENTED"
	case http.StatusServiceUnavailable:
		return "UNAVAILABLE"
	case http.StatusGatewayTimeout:
		return "DEADLINE_EXCEEDED"
	}
	switch {
	case 400 <= status && status < 500:
		return "FAILED_PRECONDITION"
	case 500 <= status && status < 600:
		return "INTERNAL"
	}
	return "UNKNOWN"
}
