package problem_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/faultline-go/faultline/catalog"
	"github.com/faultline-go/faultline/problem"
)

// fuzzTarget exercises the decoder's paths: scalars, nesting, slices, maps,
// pointers and a type with its own UnmarshalJSON.
type fuzzTarget struct {
	S   string            `json:"s"`
	I   int8              `json:"i"`
	U   uint              `json:"u"`
	F   float32           `json:"f"`
	B   bool              `json:"b"`
	P   *fuzzTarget       `json:"p"`
	L   []int             `json:"l"`
	M   map[string]string `json:"m"`
	T   time.Time         `json:"t"`
	Raw json.RawMessage   `json:"raw"`
	Any any               `json:"any"`
}

// fuzzMaxBytes keeps the limit small enough for the fuzzer to cross it.
const fuzzMaxBytes = 256

// FuzzDecodeJSON feeds arbitrary bodies and content types to
// Decoder.Decode. It must never panic, and every error must be a
// *problem.Error answered with 400, 413 or 415 that every envelope renders as
// valid JSON. A body encoding/json accepts must be accepted too.
func FuzzDecodeJSON(f *testing.F) {
	f.Add([]byte(`{"s":"x","i":1,"p":{"l":[1,2]},"m":{"k":"v"},"t":"2025-01-02T03:04:05Z"}`), "application/json", false, false)
	f.Add([]byte(`{"i":300}`), "application/json; charset=utf-8", false, false)
	f.Add([]byte(`{"zz":1}`), "", true, false)
	f.Add([]byte(`{"t":"yesterday"}`), "application/merge-patch+json", false, true)
	f.Add([]byte(`{} {}`), "", false, false)
	f.Add([]byte(`{"a":`), "", false, true)
	f.Add([]byte(`"\ud800"`), "text/plain", false, false)
	f.Add(bytes.Repeat([]byte(" "), fuzzMaxBytes+1), "", false, true)

	cat := catalog.MustNew("")
	renderers := make([]*problem.Renderer, len(envelopes))
	for i, env := range envelopes {
		renderers[i] = problem.MustRenderer(problem.Config{Envelope: env, Catalog: cat, Logger: discardLogger})
	}
	f.Fuzz(func(t *testing.T, body []byte, contentType string, strict, isChunked bool) {
		dec := problem.Decoder{MaxBytes: fuzzMaxBytes, DisallowUnknownFields: strict}
		newRequest := func() *http.Request {
			var r *http.Request
			if isChunked {
				r = httptest.NewRequest(http.MethodPost, "/", chunked(string(body)))
			} else {
				r = httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
			}
			if contentType != "" {
				r.Header.Set("Content-Type", contentType)
			}
			return r
		}

		var v fuzzTarget
		err := dec.Decode(httptest.NewRecorder(), newRequest(), &v)
		if err == nil {
			return
		}
		pe, ok := err.(*problem.Error)
		if !ok {
			t.Fatalf("Decode(%q, %q) = %T %v, want a *problem.Error", body, contentType, err, err)
		}
		code := cat.Ref(pe.Code)
		if code == nil {
			t.Fatalf("Decode(%q, %q) code %q is not in the catalog", body, contentType, pe.Code)
		}
		switch code.Status {
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType:
		default:
			t.Fatalf("Decode(%q, %q) = %v with status %d, want 400, 413 or 415", body, contentType, err, code.Status)
		}
		if code.Status == http.StatusRequestEntityTooLarge && len(body) <= fuzzMaxBytes {
			t.Fatalf("Decode(%q) = 413 for %d bytes, limit %d", body, len(body), fuzzMaxBytes)
		}
		if code.Status == http.StatusBadRequest && len(body) <= fuzzMaxBytes && !strict {
			var w fuzzTarget
			// The decoder is json.Unmarshal plus the rule that JSON is
			// UTF-8 (RFC 8259), which Unmarshal papers over with U+FFFD.
			if utf8.Valid(body) && json.Unmarshal(body, &w) == nil {
				t.Fatalf("Decode(%q) = %v, but json.Unmarshal accepts the body", body, err)
			}
		}
		for _, rd := range renderers {
			rec := httptest.NewRecorder()
			rd.Write(rec, newRequest(), err)
			if rec.Code != code.Status || !json.Valid(rec.Body.Bytes()) {
				t.Fatalf("%s: Write(%v) = %d %q, want %d and valid JSON", rd.Envelope().Name(), err, rec.Code, rec.Body, code.Status)
			}
		}
	})
}
