package problem_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/catalog"
	"github.com/faultline-go/faultline/problem"
)

// order is the target type of the decoder tests.
type order struct {
	Symbol   string    `json:"symbol"`
	Quantity int       `json:"quantity"`
	Price    float64   `json:"price"`
	Express  bool      `json:"express"`
	Tags     []string  `json:"tags"`
	Shipping *address  `json:"shipping"`
	Lines    []line    `json:"lines"`
	At       time.Time `json:"at"`
}

type address struct {
	Zip string `json:"zip"`
}

type line struct {
	Qty int `json:"qty"`
}

func TestDecoder(t *testing.T) {
	tests := []struct {
		name        string
		dec         problem.Decoder
		contentType string
		body        io.Reader // nil for no body
		length      int64     // overrides the Content-Length when non-zero
		wantCode    string    // "" for success
		wantMessage string    // contained in the message
		wantField   string    // the single violation's field, if any
		wantReason  string    // the single violation's reason, if any
		wantMeta    map[string]string
		want        order // on success
	}{
		{
			name:        "valid",
			contentType: "application/json",
			body:        strings.NewReader(`{"symbol":"ACME","quantity":3,"tags":["a"],"shipping":{"zip":"10115"},"lines":[{"qty":1}]}`),
			want: order{Symbol: "ACME", Quantity: 3, Tags: []string{"a"}, Shipping: &address{Zip: "10115"},
				Lines: []line{{Qty: 1}}},
		},
		{
			name:        "charset utf-8 in any case",
			contentType: "application/json; charset=UTF-8",
			body:        strings.NewReader(`{"symbol":"ACME"}`),
			want:        order{Symbol: "ACME"},
		},
		{
			name:        "application/*+json",
			contentType: "application/merge-patch+json",
			body:        strings.NewReader(`{"quantity":2}`),
			want:        order{Quantity: 2},
		},
		{
			name: "no Content-Type",
			body: strings.NewReader(`{"symbol":"ACME"}`),
			want: order{Symbol: "ACME"},
		},
		{
			name: "surrounding whitespace",
			body: strings.NewReader(" \n\t{\"symbol\":\"ACME\"}\r\n "),
			want: order{Symbol: "ACME"},
		},
		{
			name: "unknown field allowed by default",
			body: strings.NewReader(`{"symbol":"ACME","color":"red"}`),
			want: order{Symbol: "ACME"},
		},
		{
			name: "chunked within the limit",
			dec:  problem.Decoder{MaxBytes: 64},
			body: chunked(`{"symbol":"ACME"}`),
			want: order{Symbol: "ACME"},
		},
		{
			name:        "text/plain",
			contentType: "text/plain",
			body:        strings.NewReader(`{}`),
			wantCode:    catalog.UnsupportedMediaType,
			wantMessage: "application/json",
		},
		{
			name:        "latin1",
			contentType: "application/json; charset=latin1",
			body:        strings.NewReader(`{}`),
			wantCode:    catalog.UnsupportedMediaType,
		},
		{
			name:        "unparsable Content-Type",
			contentType: "application/json; charset",
			body:        strings.NewReader(`{}`),
			wantCode:    catalog.UnsupportedMediaType,
		},
		{
			name:        "json suffix outside application",
			contentType: "text/vnd.x+json",
			body:        strings.NewReader(`{}`),
			wantCode:    catalog.UnsupportedMediaType,
		},
		{
			name:        "Content-Length over the limit",
			dec:         problem.Decoder{MaxBytes: 100},
			body:        strings.NewReader(`{}`),
			length:      101,
			wantCode:    catalog.PayloadTooLarge,
			wantMessage: "limit of 100 bytes",
			wantMeta:    map[string]string{"limit": "100"},
		},
		{
			name:     "Content-Length over the default limit",
			body:     strings.NewReader(`{}`),
			length:   problem.DefaultMaxBodyBytes + 1,
			wantCode: catalog.PayloadTooLarge,
			wantMeta: map[string]string{"limit": strconv.Itoa(problem.DefaultMaxBodyBytes)},
		},
		{
			name:     "chunked over the limit",
			dec:      problem.Decoder{MaxBytes: 16},
			body:     chunked(`{"symbol":"` + strings.Repeat("A", 64) + `"}`),
			wantCode: catalog.PayloadTooLarge,
			wantMeta: map[string]string{"limit": "16"},
		},
		{
			name:     "chunked, trailing space over the limit",
			dec:      problem.Decoder{MaxBytes: 16},
			body:     chunked(`{}` + strings.Repeat(" ", 64)),
			wantCode: catalog.PayloadTooLarge,
			wantMeta: map[string]string{"limit": "16"},
		},
		{
			name:        "no body",
			wantCode:    catalog.InvalidArgument,
			wantMessage: "must not be empty",
		},
		{
			name:        "empty body",
			body:        strings.NewReader(""),
			wantCode:    catalog.InvalidArgument,
			wantMessage: "must not be empty",
		},
		{
			name:        "whitespace only",
			body:        chunked("  \n"),
			wantCode:    catalog.InvalidArgument,
			wantMessage: "must not be empty",
		},
		{
			name:        "invalid UTF-8",
			body:        strings.NewReader("{\"symbol\":\"AC\xffME\"}"),
			wantCode:    catalog.InvalidArgument,
			wantMessage: "not valid UTF-8 at byte offset 13.",
			wantMeta:    map[string]string{"offset": "13"},
		},
		{
			name:        "truncated UTF-8 sequence at the end",
			body:        chunked("{\"symbol\":\"\xe2\x82"),
			wantCode:    catalog.InvalidArgument,
			wantMessage: "not valid UTF-8 at byte offset 11.",
		},
		{
			name: "multi-byte UTF-8 across chunks",
			body: io.MultiReader(strings.NewReader("{\"symbol\":\"\xe2"), strings.NewReader("\x82\xac\"}")),
			want: order{Symbol: "\u20ac"},
		},
		{
			name:        "malformed",
			body:        strings.NewReader(`{bad`),
			wantCode:    catalog.InvalidArgument,
			wantMessage: "Malformed JSON at byte offset 2.",
			wantMeta:    map[string]string{"offset": "2"},
		},
		{
			name:        "truncated",
			body:        strings.NewReader(`{"a":`),
			wantCode:    catalog.InvalidArgument,
			wantMessage: "Malformed JSON at byte offset 5.",
			wantMeta:    map[string]string{"offset": "5"},
		},
		{
			name:        "wrong type",
			body:        strings.NewReader(`{"quantity":"three"}`),
			wantCode:    catalog.InvalidFormat,
			wantMessage: "Field quantity must be an integer.",
			wantField:   "quantity",
			wantReason:  catalog.InvalidFormat,
			wantMeta:    map[string]string{"offset": "19"},
		},
		{
			name:        "wrong type, bool",
			body:        strings.NewReader(`{"express":"yes"}`),
			wantCode:    catalog.InvalidFormat,
			wantMessage: "Field express must be a boolean.",
			wantField:   "express",
		},
		{
			name:        "wrong type, number overflow",
			body:        strings.NewReader(`{"quantity":1e400}`),
			wantCode:    catalog.InvalidFormat,
			wantMessage: "Field quantity must be an integer.",
			wantField:   "quantity",
		},
		{
			name:        "nested field",
			body:        strings.NewReader(`{"shipping":{"zip":10115}}`),
			wantCode:    catalog.InvalidFormat,
			wantMessage: "Field shipping.zip must be a string.",
			wantField:   "shipping.zip",
		},
		{
			name:        "field in an array",
			body:        strings.NewReader(`{"lines":[{"qty":1},{"qty":"x"}]}`),
			wantCode:    catalog.InvalidFormat,
			wantMessage: "Field lines.qty must be an integer.",
			wantField:   "lines.qty",
		},
		{
			name:        "wrong type, number",
			body:        strings.NewReader(`{"price":"1.50"}`),
			wantCode:    catalog.InvalidFormat,
			wantMessage: "Field price must be a number.",
			wantField:   "price",
		},
		{
			name:        "wrong type, array",
			body:        strings.NewReader(`{"tags":"a,b"}`),
			wantCode:    catalog.InvalidFormat,
			wantMessage: "Field tags must be an array.",
			wantField:   "tags",
		},
		{
			name:        "wrong type, pointer to struct",
			body:        strings.NewReader(`{"shipping":"10115"}`),
			wantCode:    catalog.InvalidFormat,
			wantMessage: "Field shipping must be an object.",
			wantField:   "shipping",
		},
		{
			name:        "array for an object",
			body:        strings.NewReader(`{"shipping":[]}`),
			wantCode:    catalog.InvalidFormat,
			wantMessage: "Field shipping must be an object.",
			wantField:   "shipping",
		},
		{
			name:        "wrong top-level type",
			body:        strings.NewReader(`["ACME"]`),
			wantCode:    catalog.InvalidFormat,
			wantMessage: "Request body must be an object.",
			wantField:   "body",
		},
		{
			name:        "value rejected by its own unmarshaler",
			body:        strings.NewReader(`{"at":"yesterday"}`),
			wantCode:    catalog.InvalidArgument,
			wantMessage: "invalid value",
		},
		{
			name:        "unknown field disallowed",
			dec:         problem.Decoder{DisallowUnknownFields: true},
			body:        strings.NewReader(`{"symbol":"ACME","color":"red"}`),
			wantCode:    catalog.InvalidArgument,
			wantMessage: "Unknown field color.",
			wantField:   "color",
			wantReason:  problem.ReasonUnknownField,
		},
		{
			name:        "trailing value",
			body:        strings.NewReader(`{} {}`),
			wantCode:    catalog.InvalidArgument,
			wantMessage: "single JSON value; unexpected data at byte offset 4.",
			wantMeta:    map[string]string{"offset": "4"},
		},
		{
			name:        "trailing garbage",
			body:        strings.NewReader(`{"symbol":"ACME"}x`),
			wantCode:    catalog.InvalidArgument,
			wantMessage: "single JSON value",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/orders", tc.body)
			if tc.contentType != "" {
				r.Header.Set("Content-Type", tc.contentType)
			}
			if tc.length != 0 {
				r.ContentLength = tc.length
			}
			var got order
			err := tc.dec.Decode(httptest.NewRecorder(), r, &got)
			if tc.wantCode == "" {
				require.NoError(t, err, "Decode() = %v, want nil", err)
				assert.Equal(t, tc.want, got, "Decode() value")
				return
			}
			var pe *problem.Error
			require.ErrorAs(t, err, &pe, "Decode() = %#v, want a *problem.Error", err)
			assert.Equal(t, tc.wantCode, pe.Code, "Decode() code; message %q", pe.Message)
			assert.Contains(t, pe.Message, tc.wantMessage, "Decode() message")
			if tc.wantField != "" {
				require.Len(t, pe.Violations, 1, "Decode() violations")
				assert.Equal(t, tc.wantField, pe.Violations[0].Field, "Decode() violation field")
				assert.Contains(t, pe.Message, tc.wantField, "Decode() message names the field")
				if tc.wantReason != "" {
					assert.Equal(t, tc.wantReason, pe.Violations[0].Reason, "Decode() violation reason")
				}
			}
			for k, v := range tc.wantMeta {
				assert.Equal(t, v, pe.Metadata[k], "Decode() metadata %s", k)
			}
		})
	}
}

func TestDecoderPlainErrors(t *testing.T) {
	t.Run("non-pointer dst", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"symbol":"ACME"}`))
		var o order
		err := problem.DecodeJSON(httptest.NewRecorder(), r, o)
		require.Error(t, err, "DecodeJSON(non-pointer) = nil, want an error")
		var pe *problem.Error
		assert.False(t, errors.As(err, &pe), "DecodeJSON(non-pointer) = %v, want a plain error", err)
	})
	t.Run("failed read", func(t *testing.T) {
		readErr := errors.New("read tcp: connection reset by peer")
		r := httptest.NewRequest(http.MethodPost, "/", errReader{readErr})
		err := problem.DecodeJSON(httptest.NewRecorder(), r, new(order))
		assert.ErrorIs(t, err, readErr, "DecodeJSON(failing body)")
		var pe *problem.Error
		assert.False(t, errors.As(err, &pe), "DecodeJSON(failing body) = %v, want the read error as it is", err)
	})
	t.Run("rendered as 413 by the renderer", func(t *testing.T) {
		// A handler that reads the body itself, through MaxBytesReader,
		// fails with *http.MaxBytesError; the renderer answers 413.
		rd, _ := envRenderer(t, problem.EnvelopeProblem)
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(strings.Repeat("x", 100)))
		rec := httptest.NewRecorder()
		_, err := io.ReadAll(http.MaxBytesReader(rec, r.Body, 10))
		rd.Write(rec, r, err)
		assert.Equal(t, http.StatusRequestEntityTooLarge, rec.Code, "Write(MaxBytesError) status")
	})
}

func TestDecodeJSONThroughRenderer(t *testing.T) {
	rd, _ := envRenderer(t, problem.EnvelopeGoogle)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var o order
		if err := problem.DecodeJSON(w, r, &o); err != nil {
			rd.Write(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	tests := []struct {
		body, contentType string
		wantStatus        int
	}{
		{`{"symbol":"ACME"}`, "application/json", http.StatusNoContent},
		{`{"quantity":"x"}`, "application/json", http.StatusBadRequest},
		{`{}`, "text/csv", http.StatusUnsupportedMediaType},
		{`{"at":true}`, "", http.StatusBadRequest},
	}
	for _, tc := range tests {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tc.body))
		r.Header.Set("Content-Type", tc.contentType)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		assert.Equal(t, tc.wantStatus, rec.Code, "POST %s (%s) status; body %s", tc.body, tc.contentType, rec.Body)
	}
}
