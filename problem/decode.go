package problem

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/faultline-go/faultline/catalog"
)

// DefaultMaxBodyBytes is the body size limit of a zero Decoder: 1 MiB.
const DefaultMaxBodyBytes = 1 << 20

// ReasonUnknownField is the violation reason for a JSON member the target
// type does not have, when unknown fields are rejected.
const ReasonUnknownField = "UNKNOWN_FIELD"

// Decoder reads JSON request bodies into Go values and reports every way a
// body can be wrong as a *Error. The zero value is ready to use.
type Decoder struct {
	// MaxBytes caps the body size; 0 means DefaultMaxBodyBytes. A larger
	// body fails with 413 PAYLOAD_TOO_LARGE.
	MaxBytes int64
	// DisallowUnknownFields rejects members the target struct does not
	// have, with 400 INVALID_ARGUMENT naming the member.
	DisallowUnknownFields bool
}

// DecodeJSON decodes r's body into dst with a zero Decoder.
func DecodeJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	return Decoder{}.Decode(w, r, dst)
}

// Decode reads r's body, up to MaxBytes, and decodes the one JSON value it
// holds into dst. It fails with
//   - 415 UNSUPPORTED_MEDIA_TYPE when a Content-Type is sent and is not
//     application/json or application/*+json in UTF-8 (no Content-Type
//     is read as JSON);
//   - 413 PAYLOAD_TOO_LARGE when the body exceeds MaxBytes;
//   - 400 INVALID_ARGUMENT for an empty body, a body that is not UTF-8 (RFC
//     8259; encoding/json would quietly turn the bad bytes into U+FFFD),
//     malformed JSON (the message and the offset metadata give the byte
//     offset of either), trailing data, an
//     unknown field when those are disallowed, or a value that a
//     json.Unmarshaler or encoding.TextUnmarshaler in dst rejects;
//   - 400 INVALID_FORMAT naming the field when a value has the wrong type;
//   - 400 INVALID_ARGUMENT when the client breaks the body in transit:
//     malformed chunked encoding, or a body that ends before its declared
//     length (the connection closed, or half-closed, early);
//   - 408 REQUEST_TIMEOUT (catalog.RequestTimeout) when the body does not
//     arrive within the server's read timeout.
//
// Errors that are not about the body (a dst that is not a pointer, a read
// that failed because the client went away) are returned as they are.
func (d Decoder) Decode(w http.ResponseWriter, r *http.Request, dst any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !isJSON(ct) {
		return New(catalog.UnsupportedMediaType, "Content-Type must be application/json.")
	}
	limit := d.MaxBytes
	if limit <= 0 {
		limit = DefaultMaxBodyBytes
	}
	if r.ContentLength > limit {
		return tooLarge(limit)
	}
	if r.Body == nil || r.Body == http.NoBody {
		return New(catalog.InvalidArgument, "Request body must not be empty.")
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		if pe := bodyError(err, limit); pe != nil {
			return pe
		}
		return err // the read failed for another reason (the client went away, ...)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return New(catalog.InvalidArgument, "Request body must not be empty.")
	}
	if !utf8.Valid(data) {
		off := strconv.Itoa(invalidUTF8At(data))
		return New(catalog.InvalidArgument, "Request body is not valid UTF-8 at byte offset "+off+".").WithMeta("offset", off)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if d.DisallowUnknownFields {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(dst); err != nil {
		return decodeError(err, int64(len(data)))
	}
	if _, err := dec.Token(); err != io.EOF {
		off := strconv.FormatInt(dec.InputOffset(), 10)
		return New(catalog.InvalidArgument, "Request body must hold a single JSON value; unexpected data at byte offset "+
			off+".").WithMeta("offset", off)
	}
	return nil
}

// invalidUTF8At returns the offset of the first byte of data that is not
// part of a valid UTF-8 encoding.
func invalidUTF8At(data []byte) int {
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return len(data)
}

func tooLarge(limit int64) *Error {
	return New(catalog.PayloadTooLarge, "Request body exceeds the limit of "+strconv.FormatInt(limit, 10)+" bytes.").
		WithMeta("limit", strconv.FormatInt(limit, 10))
}

// decodeError maps a json.Decoder error to a problem.
func decodeError(err error, size int64) error {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
		inv *json.InvalidUnmarshalError
	)
	switch {
	case errors.Is(err, io.EOF):
		return New(catalog.InvalidArgument, "Request body must not be empty.")
	case errors.As(err, &syn):
		return malformed(syn.Offset, err)
	case errors.Is(err, io.ErrUnexpectedEOF):
		// The body ended inside a value: the offset is where it ended.
		return malformed(size, err)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "body"
		}
		v := Violation{Field: field, Reason: catalog.InvalidFormat,
			Description: "Field " + field + " must be " + jsonKind(typ.Type) + "."}
		if typ.Field == "" {
			v.Description = "Request body must be " + jsonKind(typ.Type) + "."
		}
		return Validation(v).WithCause(err).WithMeta("offset", strconv.FormatInt(typ.Offset, 10))
	case errors.As(err, &inv):
		return err
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name, _ = strconv.Unquote(name)
		e := Validation(Violation{Field: name, Reason: ReasonUnknownField, Description: "Unknown field " + name + "."})
		return e.WithCause(err)
	}
	// What is left comes from a json.Unmarshaler or encoding.TextUnmarshaler
	// of dst (time.Time given "yesterday"): the body holds a bad value.
	return Wrap(err, catalog.InvalidArgument, "Request body holds an invalid value.")
}

func malformed(offset int64, cause error) *Error {
	off := strconv.FormatInt(offset, 10)
	return Wrap(cause, catalog.InvalidArgument, "Malformed JSON at byte offset "+off+".").WithMeta("offset", off)
}

// isJSON reports whether a Content-Type value names JSON in UTF-8.
func isJSON(ct string) bool {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return false
	}
	return mt == "application/json" || strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")
}

// jsonKind names the JSON type a Go type is decoded from.
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "a valid value"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "a valid value"
}
