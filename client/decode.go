package client

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// DefaultMaxBody is the body limit of a zero Decoder: 64 KiB, far above any
// error envelope.
const DefaultMaxBody = 64 << 10

// MaxExcerpt is the longest Excerpt, in bytes.
const MaxExcerpt = 512

// Decoder decodes error responses. The zero value is ready to use: no
// catalog (the built-in codes map envelope codes to names, the status
// decides retryability), DefaultMaxBody and the system clock.
type Decoder struct {
	// Catalog, when set, maps envelope codes to canonical names and
	// supplies each code's flat code and retryable flag.
	Catalog *Catalog
	// MaxBody is the most bytes of a body that are read and decoded;
	// 0 or less means DefaultMaxBody. A body cut at the limit is no
	// envelope.
	MaxBody int64
	// Now dates a Retry-After given as an HTTP-date; nil means time.Now.
	Now func() time.Time
}

// Decode is Decoder{}.Decode.
func Decode(resp *http.Response) error {
	return Decoder{}.Decode(resp)
}

// Decode returns nil for a response below 400 and leaves its body alone.
// For any other it reads at most MaxBody bytes of the body, drains at most
// as many more so the connection can be reused, closes the body and
// returns a *Error: the envelope decoded, or for a body in no envelope the
// status and an Excerpt. A body that fails to read part way is decoded
// from what arrived.
func (d Decoder) Decode(resp *http.Response) error {
	if resp.StatusCode < 400 {
		return nil
	}
	limit := d.limit()
	body, truncated := readBounded(resp.Body, limit)
	drainClose(resp.Body, limit)
	return d.decode(resp.StatusCode, resp.Header, body, truncated)
}

func (d Decoder) limit() int64 {
	if d.MaxBody > 0 {
		return d.MaxBody
	}
	return DefaultMaxBody
}

func (d Decoder) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// readBounded reads up to limit bytes of r; truncated says r had more. A
// read error ends the body where it happened.
func readBounded(r io.Reader, limit int64) (body []byte, truncated bool) {
	if r == nil {
		return nil, false
	}
	body, _ = io.ReadAll(io.LimitReader(r, limit+1))
	if int64(len(body)) > limit {
		return body[:limit], true
	}
	return body, false
}

// drainClose discards at most limit more bytes of body and closes it.
func drainClose(body io.ReadCloser, limit int64) {
	if body == nil {
		return
	}
	_, _ = io.CopyN(io.Discard, body, limit)
	_ = body.Close()
}

// decode builds the Error for a response already read.
func (d Decoder) decode(status int, h http.Header, body []byte, truncated bool) *Error {
	e := &Error{Status: status}
	if truncated || !d.decodeEnvelope(e, h.Get("Content-Type"), body) {
		*e = Error{Status: status, Excerpt: excerpt(body)}
	}
	if e.RequestID == "" {
		e.RequestID = h.Get(HeaderRequestID)
	}
	if v := h.Get(HeaderRetryAfter); v != "" {
		if ra, err := ParseRetryAfter(v, d.now()); err == nil {
			e.RetryAfter, e.HasRetryAfter = ra, true
		}
	}
	if e.Code == "" {
		if b := builtinStatus(status); b != nil {
			e.Code = b.Name
		}
	}
	e.Retryable = retryableStatus(status)
	if c := d.Catalog.name(e.Code); c != nil {
		e.Retryable = c.Retryable
		if e.Flat == "" {
			e.Flat = c.Flat
		}
	}
	return e
}

// decodeEnvelope recognises the envelope by content type and shape and
// fills e from it; false means body is in none of them.
func (d Decoder) decodeEnvelope(e *Error, contentType string, body []byte) bool {
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return false
	}
	if raw, ok := top["error"]; ok && len(top) == 1 {
		var inner map[string]json.RawMessage
		if json.Unmarshal(raw, &inner) != nil || inner == nil {
			return false
		}
		switch kind(inner["code"]) {
		case '0':
			return d.decodeGoogle(e, body)
		case '"':
			if _, google := inner["status"]; !google {
				return d.decodeTracked(e, body)
			}
		}
		return kind(inner["status"]) == '"' && d.decodeGoogle(e, body)
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt == "application/problem+json" || looksProblem(top) {
		return d.decodeProblem(e, top)
	}
	if kind(top["code"]) == '"' && kind(top["message"]) == '"' {
		return d.decodeFlat(e, top)
	}
	return false
}

// kind classifies a JSON value by its first byte: '"' string, '0' number,
// '{' object, '[' array, 't' boolean, 'n' null, 0 missing.
func kind(raw json.RawMessage) byte {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 {
		return 0
	}
	switch c := raw[0]; {
	case c == '-' || '0' <= c && c <= '9':
		return '0'
	case c == 'f':
		return 't'
	default:
		return c
	}
}

// looksProblem reports whether an object sent as plain JSON is RFC 9457
// problem details: a numeric status with a title, detail or type.
func looksProblem(top map[string]json.RawMessage) bool {
	if kind(top["status"]) != '0' {
		return false
	}
	return kind(top["title"]) == '"' || kind(top["detail"]) == '"' || kind(top["type"]) == '"'
}

// scalar returns a JSON string, number or boolean as text.
func scalar(raw json.RawMessage) (string, bool) {
	switch kind(raw) {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return "", false
		}
		return s, true
	case '0', 't':
		return string(bytes.TrimSpace(raw)), true
	}
	return "", false
}

// excerpt is the start of a body as printable, valid UTF-8 of at most
// MaxExcerpt bytes, with runs of white space and control characters
// turned into one space.
func excerpt(body []byte) string {
	if len(body) > 4*MaxExcerpt {
		body = body[:4*MaxExcerpt]
	}
	s := strings.ToValidUTF8(string(body), "\uFFFD")
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r)
	}), " ")
	if len(s) <= MaxExcerpt {
		return s
	}
	cut := MaxExcerpt
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}
