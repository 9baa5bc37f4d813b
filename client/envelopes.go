package client

import (
	"encoding/json"
	"strings"
)

// Reasons, metadata keys and @type names the google envelopes use.
const (
	reasonErrorRecorded     = "ERROR_RECORDED"
	metaExcID               = "exc_id"
	typePrefix              = "type.googleapis.com/"
	typeErrorInfo           = "google.rpc.ErrorInfo"
	typeBadRequest          = "google.rpc.BadRequest"
	typePreconditionFailure = "google.rpc.PreconditionFailure"
	typeRetryInfo           = "google.rpc.RetryInfo"
	typeRequestInfo         = "google.rpc.RequestInfo"
)

// googleDetail is one details entry, plain ({reason, description,
// metadata}) or AIP-193 (@type and the members of that message).
type googleDetail struct {
	Type            string            `json:"@type"`
	Reason          string            `json:"reason"`
	Domain          string            `json:"domain"`
	Description     string            `json:"description"`
	Metadata        map[string]string `json:"metadata"`
	FieldViolations []struct {
		Field       string `json:"field"`
		Description string `json:"description"`
		Reason      string `json:"reason"`
	} `json:"fieldViolations"`
	Violations []struct {
		Type        string `json:"type"`
		Subject     string `json:"subject"`
		Description string `json:"description"`
	} `json:"violations"`
	RetryDelay string `json:"retryDelay"`
	RequestID  string `json:"requestId"`
}

// decodeGoogle reads {"error":{"code":404,"status":...,"details":[...]}},
// the google envelope or, when a details entry has an @type, the
// google-strict one. Details entries that do not parse are skipped, not
// fatal: the status and message still stand.
func (d Decoder) decodeGoogle(e *Error, body []byte) bool {
	var b struct {
		Error struct {
			Status  string            `json:"status"`
			Message string            `json:"message"`
			Details []json.RawMessage `json:"details"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &b) != nil {
		return false
	}
	e.Envelope, e.Message = EnvelopeGoogle, b.Error.Message
	retryDelay, typed := "", false
	for _, raw := range b.Error.Details {
		var det googleDetail
		if json.Unmarshal(raw, &det) != nil {
			continue
		}
		if det.Type != "" {
			typed = true
			if rd := e.typedDetail(&det); rd != "" {
				retryDelay = rd
			}
			continue
		}
		e.plainDetail(&det)
	}
	if typed {
		e.Envelope = EnvelopeGoogleStrict
	}
	if retryDelay != "" {
		if ra, ok := parseProtoDuration(retryDelay); ok {
			e.RetryAfter, e.HasRetryAfter = ra, true
		}
	}
	e.Code = b.Error.Status
	if c := d.Catalog.google(b.Error.Status); c != nil {
		e.Code = c.Name
	} else if c := builtins().google(b.Error.Status); c != nil {
		e.Code = c.Name
	}
	// AIP-193 puts the precise code in ErrorInfo.reason under a coarse
	// status (MISSING_FIELD under INVALID_ARGUMENT): prefer it when it
	// names a known code.
	if typed && (d.Catalog.name(e.Reason) != nil || builtins().name(e.Reason) != nil) {
		e.Code = e.Reason
	}
	return true
}

// plainDetail reads a details entry without @type: a field violation when
// metadata names a field, the exc_ reference for ERROR_RECORDED, else the
// cause.
func (e *Error) plainDetail(det *googleDetail) {
	switch {
	case det.Metadata["field"] != "":
		e.Violations = append(e.Violations, Violation{Field: det.Metadata["field"],
			Reason: det.Reason, Description: det.Description})
	case det.Reason == reasonErrorRecorded:
		e.ExcID = det.Metadata["id"]
		if e.Reason == "" {
			e.Reason = det.Reason
		}
	case e.Reason == "":
		e.Reason, e.Metadata = det.Reason, nonEmpty(det.Metadata)
	}
}

// typedDetail reads an AIP-193 details entry and returns its retryDelay,
// if it is a RetryInfo. Messages other than ErrorInfo, BadRequest,
// PreconditionFailure, RetryInfo and RequestInfo are ignored.
func (e *Error) typedDetail(det *googleDetail) (retryDelay string) {
	switch strings.TrimPrefix(det.Type, typePrefix) {
	case typeErrorInfo:
		e.errorInfo(det)
	case typeBadRequest:
		for _, v := range det.FieldViolations {
			e.Violations = append(e.Violations, Violation{Field: v.Field, Reason: v.Reason, Description: v.Description})
		}
	case typePreconditionFailure:
		for _, v := range det.Violations {
			e.Violations = append(e.Violations, Violation{Field: v.Subject, Reason: v.Type, Description: v.Description})
		}
	case typeRetryInfo:
		return det.RetryDelay
	case typeRequestInfo:
		e.RequestID = det.RequestID
	}
	return ""
}

// errorInfo reads the first google.rpc.ErrorInfo. The exc_ reference of a
// sanitized error is metadata.exc_id (google-strict), which is not kept in
// Metadata, or metadata.id under the reason ERROR_RECORDED.
func (e *Error) errorInfo(det *googleDetail) {
	if e.Reason != "" {
		return
	}
	e.Reason, e.Domain = det.Reason, det.Domain
	meta := det.Metadata
	if id := meta[metaExcID]; strings.HasPrefix(id, "exc_") {
		e.ExcID = id
		meta = make(map[string]string, len(det.Metadata))
		for k, v := range det.Metadata {
			if k != metaExcID {
				meta[k] = v
			}
		}
	} else if det.Reason == reasonErrorRecorded && strings.HasPrefix(meta["id"], "exc_") {
		e.ExcID = meta["id"]
	}
	e.Metadata = nonEmpty(meta)
}

// decodeTracked reads {"error":{"code":"NOT_FOUND","details":{...},
// "request_id":...}}: details.reason names the precise code under the
// category in code, details.fields the violations, details.exc_id the
// reference; its other members are metadata.
func (d Decoder) decodeTracked(e *Error, body []byte) bool {
	var b struct {
		Error struct {
			Code      string                     `json:"code"`
			Message   string                     `json:"message"`
			Details   map[string]json.RawMessage `json:"details"`
			RequestID string                     `json:"request_id"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &b) != nil {
		// details may be something other than an object; read the rest.
		var lax struct {
			Error struct {
				Code, Message string
				RequestID     string `json:"request_id"`
			} `json:"error"`
		}
		if json.Unmarshal(body, &lax) != nil {
			return false
		}
		b.Error.Code, b.Error.Message, b.Error.RequestID = lax.Error.Code, lax.Error.Message, lax.Error.RequestID
	}
	e.Envelope, e.Message, e.RequestID = EnvelopeTracked, b.Error.Message, b.Error.RequestID
	det := b.Error.Details
	e.Reason, _ = scalar(det["reason"])
	e.ExcID, _ = scalar(det["exc_id"])
	e.Violations = violations(det["fields"])
	e.Metadata = members(det, "reason", "exc_id", "fields")
	e.Code = b.Error.Code
	switch {
	case e.Reason != "":
		e.Code = e.Reason
	case d.Catalog.tracked(b.Error.Code) != nil:
		e.Code = d.Catalog.tracked(b.Error.Code).Name
	case builtinTracked(b.Error.Code) != nil:
		e.Code = builtinTracked(b.Error.Code).Name
	}
	return true
}

// decodeProblem reads RFC 9457 problem details with faultline's extension
// members code, request_id, exc_id and errors; other members are metadata.
func (d Decoder) decodeProblem(e *Error, top map[string]json.RawMessage) bool {
	e.Envelope = EnvelopeProblem
	e.Code, _ = scalar(top["code"])
	e.RequestID, _ = scalar(top["request_id"])
	e.ExcID, _ = scalar(top["exc_id"])
	if e.Message, _ = scalar(top["detail"]); e.Message == "" {
		e.Message, _ = scalar(top["title"])
	}
	e.Violations = violations(top["errors"])
	e.Metadata = members(top, "type", "title", "status", "detail", "instance",
		"code", "request_id", "exc_id", "errors")
	return true
}

// decodeFlat reads {"code":"BLUM-404-001","message":"..."}; a sanitized
// 500 names its exc_ reference in the message.
func (d Decoder) decodeFlat(e *Error, top map[string]json.RawMessage) bool {
	e.Envelope = EnvelopeFlat
	e.Flat, _ = scalar(top["code"])
	e.Message, _ = scalar(top["message"])
	e.ExcID = findExcID(e.Message)
	e.Code = e.Flat
	if c := d.Catalog.flat(e.Flat); c != nil {
		e.Code = c.Name
	} else if c := builtinFlat(e.Flat); c != nil {
		e.Code = c.Name
	}
	return true
}

// violations reads an array of {field, reason, message} (RFC 9457's
// {pointer, detail} too); anything else is no violations.
func violations(raw json.RawMessage) []Violation {
	var items []struct {
		Field, Pointer  string
		Reason          string
		Message, Detail string
	}
	if kind(raw) != '[' || json.Unmarshal(raw, &items) != nil {
		return nil
	}
	var out []Violation
	for _, it := range items {
		v := Violation{Field: it.Field, Reason: it.Reason, Description: it.Message}
		if v.Field == "" {
			v.Field = it.Pointer
		}
		if v.Description == "" {
			v.Description = it.Detail
		}
		out = append(out, v)
	}
	return out
}

// members returns the scalar members of obj other than reserved ones.
func members(obj map[string]json.RawMessage, reserved ...string) map[string]string {
	var out map[string]string
	for k, raw := range obj {
		if contains(reserved, k) {
			continue
		}
		if v, ok := scalar(raw); ok {
			if out == nil {
				out = map[string]string{}
			}
			out[k] = v
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func nonEmpty(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
}

// findExcID returns the first exc_ reference in s: "exc_" and the letters
// and digits after it.
func findExcID(s string) string {
	i := strings.Index(s, "exc_")
	if i < 0 {
		return ""
	}
	j := i + len("exc_")
	for j < len(s) && isAlnum(s[j]) {
		j++
	}
	if j == i+len("exc_") {
		return ""
	}
	return s[i:j]
}

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}
