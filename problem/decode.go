package problem

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"

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

// Decode reads one JSON value from r's body into dst. It fails with
//   - 415 UNSUPPORTED_MEDIA_TYPE when a Content-Type is sent and is not
//     application/json or application/*+json in UTF-8 (no Content-Type
//     is read as JSON);
//   - 413 PAYLOAD_TOO_LARGE when the body exceeds MaxBytes;
//   - 400 INVALID_ARGUMENT for an empty body, malformed JSON (the message and
//     the offset metadata give the byte offset), trailing data, an
//     unknown field when those are disallowed, or a value that a
//     json.Unmarshaler or encoding.TextUnmarshaler in dst rejects;
//   - 400 INVALID_FORMAT naming the field when a value has the wrong type.
//
// Errors that are not about the body (a dst that is not a pointer, a failed
// read) are returned as they are.
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
	body := &bodyReader{rc: r.Body}
	dec := json.NewDecoder(http.MaxBytesReader(w, body, limit))
	if d.DisallowUnknownFields {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(dst); err != nil {
		return decodeError(err, body, limit)
	}
	if _, err := dec.Token(); err != io.EOF {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tooLarge(limit)
		}
		return New(catalog.InvalidArgument, "Request body must hold a single JSON value; unexpected data at byte offset "+
			strconv.FormatInt(dec.InputOffset(), 10)+".").WithMeta("offset", strconv.FormatInt(dec.InputOffset(), 10))
	}
	return nil
}

func tooLarge(limit int64) *Error {
	return New(catalog.PayloadTooLarge, "Request body exceeds the limit of "+strconv.FormatInt(limit, 10)+" bytes.").
		WithMeta("limit", strconv.FormatInt(limit, 10))
}

// bodyReader counts the bytes read from a request body and keeps the first
// read error, so that decodeError can tell a failed read from a bad body.
type bodyReader struct {
	rc  io.ReadCloser
	n   int64
	err error
}

func (b *bodyReader) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.n += int64(n)
	if err != nil && err != io.EOF && b.err == nil {
		b.err = err
	}
	return n, err
}

func (b *bodyReader) Close() error { return b.rc.Close() }

// decodeError maps a json.Decoder error to a problem.
func decodeError(err error, body *bodyReader, limit int64) error {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
		mbe *http.MaxBytesError
		inv *json.InvalidUnmarshalError
	)
	switch {
	case errors.As(err, &mbe):
		return tooLarge(limit)
	case errors.Is(err, io.EOF):
		return New(catalog.InvalidArgument, "Request body must not be empty.")
	case errors.As(err, &syn):
		return malformed(syn.Offset, err)
	case errors.Is(err, io.ErrUnexpectedEOF):
		// The body ended inside a value: the offset is where it ended.
		return malformed(body.n, err)
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
	if body.err != nil && errors.Is(err, body.err) {
		return err // the read failed; the body may be fine
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
