package client_test

import (
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/catalog"
	"github.com/faultline-go/faultline/client"
)

const (
	excZero     = "exc_00000000000000000000000000"
	goldenReqID = "req-7f3a9c"
	headerReqID = "hdr-1"
)

// trackingBody records how much of it was read and whether it was closed.
type trackingBody struct {
	r      io.Reader
	read   int
	closed bool
}

func (b *trackingBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.read += n
	return n, err
}

func (b *trackingBody) Close() error { b.closed = true; return nil }

// response builds a response with the given status, Content-Type and
// body, and X-Request-Id hdr-1.
func response(status int, contentType, body string, header ...string) (*http.Response, *trackingBody) {
	tb := &trackingBody{r: strings.NewReader(body)}
	h := http.Header{"X-Request-Id": {headerReqID}}
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		h.Set(header[i], header[i+1])
	}
	return &http.Response{StatusCode: status, Header: h, Body: tb}, tb
}

// decodeErr decodes resp with d and requires a *client.Error.
func decodeErr(t *testing.T, d client.Decoder, resp *http.Response) *client.Error {
	t.Helper()
	err := d.Decode(resp)
	var e *client.Error
	require.True(t, errors.As(err, &e), "Decode(%d) = %v, want a *client.Error", resp.StatusCode, err)
	return e
}

func contentTypeOf(envelope string) string {
	if envelope == client.EnvelopeProblem {
		return "application/problem+json"
	}
	return "application/json; charset=utf-8"
}

// TestDecodeGolden decodes the server's own golden bodies: every envelope,
// every failure kind. Every golden file must have a case.
func TestDecodeGolden(t *testing.T) {
	qty := client.Violation{Field: "quantity", Reason: "INVALID_ARGUMENT", Description: "Invalid quantity. Must be a positive number."}
	sym := client.Violation{Field: "symbol", Reason: "MISSING_FIELD", Description: "Missing required field: symbol."}
	policy := map[string]string{"policy": "sandbox"}
	const (
		msgInternal = "An internal error has occurred."
		msgQty      = "Invalid quantity. Must be a positive number."
		msgSym      = "Missing required field: symbol."
		msgBoth     = "Request validation failed for fields: symbol, quantity."
		domain      = "orders.example.com"
	)
	cases := []struct {
		file string
		want client.Error // Status, Envelope, RequestID and Retryable are filled in
	}{
		{"flat_internal", client.Error{Code: "INTERNAL", Flat: "ERR-500-001", Message: msgInternal + " Reference: " + excZero + ".", ExcID: excZero}},
		{"flat_invalid_argument", client.Error{Code: "INVALID_ARGUMENT", Flat: "ERR-400-001", Message: msgQty}},
		{"flat_method_not_allowed", client.Error{Code: "METHOD_NOT_ALLOWED", Flat: "ERR-405-001", Message: "Method not allowed."}},
		{"flat_missing_field", client.Error{Code: "MISSING_FIELD", Flat: "ERR-400-002", Message: msgSym}},
		{"flat_not_found", client.Error{Code: "NOT_FOUND", Flat: "ERR-404-001", Message: "Order ord_42 not found."}},
		{"flat_rate_limited", client.Error{Code: "RESOURCE_EXHAUSTED", Flat: "ERR-429-001", Message: "Rate limit exceeded."}},
		{"flat_validation", client.Error{Code: "INVALID_ARGUMENT", Flat: "ERR-400-001", Message: msgBoth}},

		{"google_internal", client.Error{Code: "INTERNAL", Message: msgInternal, Reason: "ERROR_RECORDED", ExcID: excZero}},
		{"google_invalid_argument", client.Error{Code: "INVALID_ARGUMENT", Message: msgQty, Violations: []client.Violation{qty}}},
		{"google_method_not_allowed", client.Error{Code: "METHOD_NOT_ALLOWED", Message: "Method not allowed.", Reason: "METHOD_NOT_ALLOWED"}},
		{"google_missing_field", client.Error{Code: "MISSING_FIELD", Message: msgSym, Violations: []client.Violation{sym}}},
		{"google_not_found", client.Error{Code: "NOT_FOUND", Message: "Order ord_42 not found.", Reason: "NOT_FOUND"}},
		{"google_rate_limited", client.Error{Code: "RESOURCE_EXHAUSTED", Message: "Rate limit exceeded.", Reason: "RESOURCE_EXHAUSTED", Metadata: policy}},
		{"google_validation", client.Error{Code: "INVALID_ARGUMENT", Message: msgBoth, Violations: []client.Violation{sym, qty}}},

		{"tracked_internal", client.Error{Code: "INTERNAL", Message: msgInternal, Reason: "INTERNAL", ExcID: excZero}},
		{"tracked_invalid_argument", client.Error{Code: "INVALID_ARGUMENT", Message: msgQty, Reason: "INVALID_ARGUMENT", Violations: []client.Violation{qty}}},
		{"tracked_method_not_allowed", client.Error{Code: "METHOD_NOT_ALLOWED", Message: "Method not allowed."}},
		{"tracked_missing_field", client.Error{Code: "MISSING_FIELD", Message: msgSym, Reason: "MISSING_FIELD", Violations: []client.Violation{sym}}},
		{"tracked_not_found", client.Error{Code: "NOT_FOUND", Message: "Order ord_42 not found."}},
		{"tracked_rate_limited", client.Error{Code: "RESOURCE_EXHAUSTED", Message: "Rate limit exceeded.", Reason: "RESOURCE_EXHAUSTED", Metadata: policy}},
		{"tracked_validation", client.Error{Code: "INVALID_ARGUMENT", Message: msgBoth, Reason: "INVALID_ARGUMENT", Violations: []client.Violation{sym, qty}}},

		{"problem_internal", client.Error{Code: "INTERNAL", Message: msgInternal, ExcID: excZero}},
		{"problem_invalid_argument", client.Error{Code: "INVALID_ARGUMENT", Message: msgQty, Violations: []client.Violation{qty}}},
		{"problem_method_not_allowed", client.Error{Code: "METHOD_NOT_ALLOWED", Message: "Method not allowed."}},
		{"problem_missing_field", client.Error{Code: "MISSING_FIELD", Message: msgSym, Violations: []client.Violation{sym}}},
		{"problem_not_found", client.Error{Code: "NOT_FOUND", Message: "Order ord_42 not found."}},
		{"problem_rate_limited", client.Error{Code: "RESOURCE_EXHAUSTED", Message: "Rate limit exceeded.", Metadata: policy}},
		{"problem_validation", client.Error{Code: "INVALID_ARGUMENT", Message: msgBoth, Violations: []client.Violation{sym, qty}}},

		{"google-strict_internal", client.Error{Code: "INTERNAL", Message: msgInternal, Reason: "INTERNAL", Domain: domain, ExcID: excZero}},
		{"google-strict_invalid_argument", client.Error{Code: "INVALID_ARGUMENT", Message: msgQty, Reason: "INVALID_ARGUMENT", Domain: domain,
			Violations: []client.Violation{qty}}},
		{"google-strict_method_not_allowed", client.Error{Code: "METHOD_NOT_ALLOWED", Message: "Method not allowed.", Reason: "METHOD_NOT_ALLOWED", Domain: domain}},
		{"google-strict_missing_field", client.Error{Code: "MISSING_FIELD", Message: msgSym, Reason: "MISSING_FIELD", Domain: domain,
			Violations: []client.Violation{sym}}},
		{"google-strict_not_found", client.Error{Code: "NOT_FOUND", Message: "Order ord_42 not found.", Reason: "NOT_FOUND", Domain: domain}},
		{"google-strict_rate_limited", client.Error{Code: "RESOURCE_EXHAUSTED", Message: "Rate limit exceeded.", Reason: "RESOURCE_EXHAUSTED", Domain: domain,
			Metadata: policy, RetryAfter: 1500 * time.Millisecond, HasRetryAfter: true}},
		{"google-strict_validation", client.Error{Code: "INVALID_ARGUMENT", Message: msgBoth, Reason: "INVALID_ARGUMENT", Domain: domain,
			Violations: []client.Violation{sym, qty}}},
	}
	statuses := map[string]int{"internal": 500, "invalid_argument": 400, "method_not_allowed": 405,
		"missing_field": 400, "not_found": 404, "rate_limited": 429, "validation": 400}
	files, err := filepath.Glob(filepath.Join("..", "problem", "testdata", "golden", "*.json"))
	require.NoError(t, err)
	var names, covered []string
	for _, f := range files {
		names = append(names, strings.TrimSuffix(filepath.Base(f), ".json"))
	}
	for _, tc := range cases {
		covered = append(covered, tc.file)
	}
	assert.ElementsMatch(t, names, covered, "golden files and decoding cases")
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("..", "problem", "testdata", "golden", tc.file+".json"))
			require.NoError(t, err)
			envelope, kind, _ := strings.Cut(tc.file, "_")
			want := tc.want
			want.Status, want.Envelope = statuses[kind], envelope
			want.Retryable = want.Status == 429 || want.Status == 500
			want.RequestID = headerReqID
			if envelope == client.EnvelopeTracked || envelope == client.EnvelopeProblem || envelope == client.EnvelopeGoogleStrict {
				want.RequestID = goldenReqID
			}
			resp, tb := response(want.Status, contentTypeOf(envelope), string(body))
			got := decodeErr(t, client.Decoder{}, resp)
			assert.Equal(t, &want, got, "Decode(%s) = %+v, want %+v", tc.file, got, &want)
			assert.True(t, tb.closed, "Decode(%s) left the body open", tc.file)
		})
	}
}

// TestDecodeCatalog gives the decoder the server's catalog: codes map to
// names through it and its retryable flag wins over the status.
func TestDecodeCatalog(t *testing.T) {
	cat := catalog.MustNew("BLUM",
		catalog.Code{Name: "DUPLICATE_ORDER", Status: 409, Flat: "BLUM-409-002"},
		catalog.Code{Name: "LEDGER_LOCKED", Status: 409, Retryable: true, Tracked: "LOCKED"},
		catalog.Code{Name: "SHUT_DOWN", Status: 503, Google: "GONE_FOR_GOOD"},
	)
	d := client.Decoder{Catalog: client.CatalogOf(cat)}
	cases := []struct {
		name, contentType, body string
		status                  int
		code, flat              string
		retryable               bool
	}{
		{"flat custom code", "application/json", `{"code":"BLUM-409-002","message":"Dup."}`, 409, "DUPLICATE_ORDER", "BLUM-409-002", false},
		{"flat retryable 409", "application/json", `{"code":"BLUM-409-003","message":"Locked."}`, 409, "LEDGER_LOCKED", "BLUM-409-003", true},
		{"google own name", "application/json", `{"error":{"code":503,"status":"GONE_FOR_GOOD","message":"Bye.","details":[]}}`, 503, "SHUT_DOWN", "BLUM-503-002", false},
		{"tracked unique category", "application/json", `{"error":{"code":"LOCKED","message":"Locked.","details":{},"request_id":"r","timestamp":"2025-03-14T15:09:26.535Z"}}`, 409, "LEDGER_LOCKED", "BLUM-409-003", true},
		{"tracked reason", "application/json", `{"error":{"code":"CONFLICT","message":"Dup.","details":{"reason":"DUPLICATE_ORDER","order_id":"ord_1"},"request_id":"r","timestamp":"2025-03-14T15:09:26.535Z"}}`, 409, "DUPLICATE_ORDER", "BLUM-409-002", false},
		{"problem code", "application/problem+json", `{"type":"about:blank","title":"Service Unavailable","status":503,"detail":"Bye.","code":"SHUT_DOWN","errors":[]}`, 503, "SHUT_DOWN", "BLUM-503-002", false},
		{"unknown code keeps status rule", "application/problem+json", `{"status":503,"title":"x","code":"ELSEWHERE"}`, 503, "ELSEWHERE", "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, _ := response(tc.status, tc.contentType, tc.body)
			got := decodeErr(t, d, resp)
			assert.Equal(t, tc.code, got.Code, "Decode(%s).Code = %q, want %q", tc.body, got.Code, tc.code)
			assert.Equal(t, tc.flat, got.Flat, "Decode(%s).Flat = %q, want %q", tc.body, got.Flat, tc.flat)
			assert.Equal(t, tc.retryable, got.Retryable, "Decode(%s).Retryable = %v, want %v", tc.body, got.Retryable, tc.retryable)
		})
	}
}

// TestDecodeAIP193 decodes the strict google form, whose details are
// typed messages.
func TestDecodeAIP193(t *testing.T) {
	cases := []struct {
		file   string
		status int
		header []string
		want   client.Error
	}{
		{"missing_field", 400, nil, client.Error{Code: "MISSING_FIELD", Message: "Missing required field: symbol.",
			Reason: "MISSING_FIELD", Domain: "orders.example.com", Metadata: map[string]string{"field": "symbol"},
			Violations: []client.Violation{{Field: "symbol", Reason: "MISSING_FIELD", Description: "Missing required field: symbol."}}}},
		{"rate_limited", 429, nil, client.Error{Code: "RESOURCE_EXHAUSTED", Message: `Rate limit exceeded for policy "reports".`,
			Reason: "RESOURCE_EXHAUSTED", Domain: "orders.example.com", Metadata: map[string]string{"policy": "reports"},
			RequestID: "req-7f3a9c", Retryable: true, RetryAfter: 3 * time.Second, HasRetryAfter: true}},
		{"rate_limited", 429, []string{"Retry-After", "5"}, client.Error{Code: "RESOURCE_EXHAUSTED", Message: `Rate limit exceeded for policy "reports".`,
			Reason: "RESOURCE_EXHAUSTED", Domain: "orders.example.com", Metadata: map[string]string{"policy": "reports"},
			RequestID: "req-7f3a9c", Retryable: true, RetryAfter: 5 * time.Second, HasRetryAfter: true}},
		{"internal", 500, nil, client.Error{Code: "INTERNAL", Message: "An internal error has occurred.",
			Reason: "ERROR_RECORDED", Domain: "orders.example.com", Metadata: map[string]string{"id": "exc_040h9nzkyg3vy4brbk8egcs759"},
			ExcID: "exc_040h9nzkyg3vy4brbk8egcs759", Retryable: true}},
		{"precondition_failure", 422, nil, client.Error{Code: "FAILED_PRECONDITION", Message: "Not enough funds.",
			Reason: "FAILED_PRECONDITION", Domain: "orders.example.com", Metadata: map[string]string{"exc_id": "not a reference", "account": "acc_1"},
			RequestID: "req-7f3a9c", Violations: []client.Violation{
				{Field: "quantity", Reason: "INSUFFICIENT_FUNDS", Description: "Exceeds the balance."},
				{Field: "symbol", Reason: "MARKET_CLOSED", Description: "The market is closed."}}}},
		{"foreign", 403, nil, client.Error{Code: "PERMISSION_DENIED", Message: "Cloud Pub/Sub API has not been used in project 123 before or it is disabled.",
			Reason: "SERVICE_DISABLED", Domain: "googleapis.com", Metadata: map[string]string{"consumer": "projects/123", "service": "pubsub.googleapis.com"},
			RetryAfter: 1500 * time.Millisecond, HasRetryAfter: true}},
	}
	for _, tc := range cases {
		t.Run(tc.file+strings.Join(tc.header, "_"), func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("testdata", "aip193", tc.file+".json"))
			require.NoError(t, err)
			resp, _ := response(tc.status, "application/json; charset=utf-8", string(body), tc.header...)
			want := tc.want
			want.Status, want.Envelope = tc.status, client.EnvelopeGoogleStrict
			if want.RequestID == "" {
				want.RequestID = headerReqID
			}
			got := decodeErr(t, client.Decoder{}, resp)
			assert.Equal(t, &want, got, "Decode(aip193/%s) = %+v, want %+v", tc.file, got, &want)
		})
	}
}

// TestDecodeNoEnvelope covers bodies that are no envelope: each still
// gives a *client.Error with the status and a bounded, valid excerpt.
func TestDecodeNoEnvelope(t *testing.T) {
	html := "<html>\r\n<head><title>502 Bad Gateway</title></head>\n<body>\n<center><h1>502 Bad Gateway</h1></center>\n<hr><center>nginx</center>\n</body>\n</html>\n"
	cases := []struct {
		name, contentType, body string
		status                  int
		code, excerpt           string
	}{
		{"proxy html", "text/html", html, 502, "BAD_GATEWAY",
			"<html> <head><title>502 Bad Gateway</title></head> <body> <center><h1>502 Bad Gateway</h1></center> <hr><center>nginx</center> </body> </html>"},
		{"plain text", "text/plain; charset=utf-8", "upstream connect error or disconnect/reset before headers\n", 503, "UNAVAILABLE",
			"upstream connect error or disconnect/reset before headers"},
		{"truncated json", "application/json", `{"error":{"code":500,"status":"INTERNAL","mess`, 500, "INTERNAL",
			`{"error":{"code":500,"status":"INTERNAL","mess`},
		{"json array", "application/json", `[1,2]`, 400, "INVALID_ARGUMENT", `[1,2]`},
		{"json of another shape", "application/json", `{"ok":false}`, 404, "NOT_FOUND", `{"ok":false}`},
		{"empty", "", "", 401, "", ""},
		{"invalid utf-8", "text/plain", "bad \xff\xfe bytes\x00here", 418, "", "bad \uFFFD bytes here"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, tb := response(tc.status, tc.contentType, tc.body)
			got := decodeErr(t, client.Decoder{}, resp)
			want := &client.Error{Status: tc.status, Code: tc.code, RequestID: headerReqID, Excerpt: tc.excerpt,
				Retryable: tc.status == 502 || tc.status == 503 || tc.status == 500}
			assert.Equal(t, want, got, "Decode(%.40q) = %+v, want %+v", tc.body, got, want)
			assert.True(t, tb.closed, "Decode(%.40q) left the body open", tc.body)
		})
	}
}

// TestDecodeLimits checks the read limit, the bounded drain and the
// excerpt bound.
func TestDecodeLimits(t *testing.T) {
	t.Run("envelope past the limit is cut", func(t *testing.T) {
		body := `{"code":"BLUM-404-001","message":"` + strings.Repeat("x", 80) + `"}`
		resp, tb := response(404, "application/json", body)
		got := decodeErr(t, client.Decoder{MaxBody: 100}, resp)
		assert.Equal(t, client.EnvelopeNone, got.Envelope, "Decode(%d-byte body, MaxBody 100).Envelope", len(body))
		assert.Equal(t, body[:100], got.Excerpt, "Decode(MaxBody 100).Excerpt")
		assert.Equal(t, len(body), tb.read, "Decode read %d bytes of %d, want all of them drained", tb.read, len(body))
		assert.True(t, tb.closed)
	})
	t.Run("drain is bounded", func(t *testing.T) {
		resp, tb := response(502, "text/html", strings.Repeat("<p>", 10_000))
		decodeErr(t, client.Decoder{MaxBody: 1000}, resp)
		assert.Equal(t, 2001, tb.read, "Decode(30000-byte body, MaxBody 1000) read %d bytes, want 2001 (limit+1, then limit drained)", tb.read)
		assert.True(t, tb.closed)
	})
	t.Run("excerpt is bounded on a rune boundary", func(t *testing.T) {
		resp, _ := response(500, "text/plain", "a"+strings.Repeat("é", 5000))
		got := decodeErr(t, client.Decoder{}, resp)
		assert.LessOrEqual(t, len(got.Excerpt), client.MaxExcerpt, "len(Excerpt) = %d, want <= %d", len(got.Excerpt), client.MaxExcerpt)
		assert.Greater(t, len(got.Excerpt), client.MaxExcerpt-2)
		assert.True(t, utf8.ValidString(got.Excerpt), "Excerpt %q is not valid UTF-8", got.Excerpt)
	})
	t.Run("success is left alone", func(t *testing.T) {
		resp, tb := response(200, "application/json", `{"code":"BLUM-404-001","message":"x"}`)
		assert.NoError(t, client.Decode(resp), "Decode(200) = error, want nil")
		assert.Zero(t, tb.read, "Decode(200) read the body")
		assert.False(t, tb.closed, "Decode(200) closed the body")
	})
	t.Run("read error part way", func(t *testing.T) {
		body := io.MultiReader(strings.NewReader("<html>gateway"), errReader{})
		resp := &http.Response{StatusCode: 504, Header: http.Header{}, Body: io.NopCloser(body)}
		got := decodeErr(t, client.Decoder{}, resp)
		assert.Equal(t, "<html>gateway", got.Excerpt)
		assert.Equal(t, "DEADLINE_EXCEEDED", got.Code)
	})
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("connection reset by peer") }

// TestDecodeHeaders covers Retry-After forms and the request id sources.
func TestDecodeHeaders(t *testing.T) {
	now := time.Date(2026, 11, 24, 19, 13, 8, 0, time.UTC)
	d := client.Decoder{Now: func() time.Time { return now }}
	cases := []struct {
		name, retryAfter string
		want             time.Duration
		has              bool
	}{
		{"seconds", "2", 2 * time.Second, true},
		{"zero", "0", 0, true},
		{"http-date", now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{"past date floors at zero", now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{"garbage ignored", "soon", 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, _ := response(503, "application/json", `{"code":"BLUM-503-001","message":"Down."}`, "Retry-After", tc.retryAfter)
			got := decodeErr(t, d, resp)
			assert.Equal(t, tc.want, got.RetryAfter, "Decode(Retry-After %q).RetryAfter", tc.retryAfter)
			assert.Equal(t, tc.has, got.HasRetryAfter, "Decode(Retry-After %q).HasRetryAfter", tc.retryAfter)
		})
	}
}

func TestErrorString(t *testing.T) {
	cases := []struct {
		e    client.Error
		want string
	}{
		{client.Error{Status: 404, Code: "NOT_FOUND", Message: "Account not found.", RequestID: "r1"},
			"client: 404 NOT_FOUND: Account not found. (request_id r1)"},
		{client.Error{Status: 500, Code: "INTERNAL", Message: "An internal error has occurred.", ExcID: excZero},
			"client: 500 INTERNAL: An internal error has occurred. (" + excZero + ")"},
		{client.Error{Status: 502, Code: "BAD_GATEWAY", Excerpt: "<html>"}, `client: 502 BAD_GATEWAY: "<html>"`},
		{client.Error{Status: 418}, "client: 418"},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, tc.e.Error(), "(%+v).Error()", tc.e)
	}
}

// TestParseCatalog reads the JSON form json.Marshal gives a catalog.
func TestParseCatalog(t *testing.T) {
	cat := catalog.MustNew("BLUM", catalog.Code{Name: "LEDGER_LOCKED", Status: 409, Retryable: true})
	raw, err := cat.MarshalJSON()
	require.NoError(t, err)
	parsed, err := client.ParseCatalog(raw)
	require.NoError(t, err, "ParseCatalog(json.Marshal(catalog)) = %v", err)
	resp, _ := response(409, "application/json", `{"code":"BLUM-409-002","message":"Locked."}`)
	got := decodeErr(t, client.Decoder{Catalog: parsed}, resp)
	assert.Equal(t, "LEDGER_LOCKED", got.Code)
	assert.True(t, got.Retryable, "Retryable = false, want the catalog's true")

	bad := []struct{ name, body string }{
		{"not json", `{"codes":[`},
		{"no codes", `{"prefix":"X"}`},
		{"no name", `{"codes":[{"status":400}]}`},
		{"bad status", `{"codes":[{"name":"A","status":200}]}`},
		{"duplicate name", `{"codes":[{"name":"A","status":400},{"name":"A","status":401}]}`},
		{"duplicate flat", `{"codes":[{"name":"A","status":400,"flat":"X-400-001"},{"name":"B","status":400,"flat":"X-400-001"}]}`},
		{"null code", `{"codes":[null]}`},
	}
	for _, tc := range bad {
		_, err := client.ParseCatalog([]byte(tc.body))
		assert.ErrorIs(t, err, client.ErrInvalidCatalog, "ParseCatalog(%s) = %v, want ErrInvalidCatalog", tc.body, err)
	}
}

// TestDecodeForeign decodes bodies from APIs that only follow the same
// envelopes: RFC 9457 without faultline's members, tracked and flat APIs
// with their own codes.
func TestDecodeForeign(t *testing.T) {
	cases := []struct {
		name, contentType, body string
		status                  int
		want                    client.Error // Status and Retryable filled in
	}{
		{"rfc 9457 example", "application/problem+json",
			`{"type":"https://example.net/validation-error","title":"Your request is not valid.","status":422,` +
				`"errors":[{"detail":"must be a positive integer","pointer":"#/age"},{"detail":"must be 'green', 'red' or 'blue'","pointer":"#/profile/color"}]}`,
			422, client.Error{Envelope: client.EnvelopeProblem, Code: "FAILED_PRECONDITION", Message: "Your request is not valid.", RequestID: headerReqID,
				Violations: []client.Violation{{Field: "#/age", Description: "must be a positive integer"}, {Field: "#/profile/color", Description: "must be 'green', 'red' or 'blue'"}}}},
		{"problem as plain json with extensions", "application/json",
			`{"type":"https://example.com/probs/out-of-credit","title":"You do not have enough credit.","status":403,"detail":"Your current balance is 30, but that costs 50.","balance":30,"accounts":["/account/12345"],"instance":"/account/12345/msgs/abc"}`,
			403, client.Error{Envelope: client.EnvelopeProblem, Code: "PERMISSION_DENIED", Message: "Your current balance is 30, but that costs 50.",
				RequestID: headerReqID, Metadata: map[string]string{"balance": "30"}}},
		{"tracked category without reason", "application/json",
			`{"error":{"code":"INVALID_REQUEST","message":"Malformed request syntax","details":{"param":"limit"},"request_id":"req_abc","timestamp":"2026-01-01T00:00:00Z"}}`,
			400, client.Error{Envelope: client.EnvelopeTracked, Code: "INVALID_ARGUMENT", Message: "Malformed request syntax", RequestID: "req_abc",
				Metadata: map[string]string{"param": "limit"}}},
		{"tracked category of several codes", "application/json",
			`{"error":{"code":"UNAUTHORIZED","message":"Invalid or missing API key","details":{},"request_id":"req_abd","timestamp":"2026-01-01T00:00:00Z"}}`,
			401, client.Error{Envelope: client.EnvelopeTracked, Code: "UNAUTHORIZED", Message: "Invalid or missing API key", RequestID: "req_abd"}},
		{"tracked rate limit category", "application/json",
			`{"error":{"code":"RATE_LIMIT_EXCEEDED","message":"Too many requests","details":[],"request_id":"req_abe","timestamp":"2026-01-01T00:00:00Z"}}`,
			429, client.Error{Envelope: client.EnvelopeTracked, Code: "RESOURCE_EXHAUSTED", Message: "Too many requests", RequestID: "req_abe"}},
		{"flat with another prefix", "application/json", `{"code":"BLUM-401-003","message":"Invalid credentials"}`,
			401, client.Error{Envelope: client.EnvelopeFlat, Code: "INVALID_CREDENTIALS", Flat: "BLUM-401-003", Message: "Invalid credentials", RequestID: headerReqID}},
		{"flat unknown code", "application/json", `{"code":"ACME-7","message":"No."}`,
			409, client.Error{Envelope: client.EnvelopeFlat, Code: "ACME-7", Flat: "ACME-7", Message: "No.", RequestID: headerReqID}},
		{"google without details", "application/json", `{"error":{"code":409,"status":"ABORTED","message":"Try again."}}`,
			409, client.Error{Envelope: client.EnvelopeGoogle, Code: "ABORTED", Message: "Try again.", RequestID: headerReqID}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, _ := response(tc.status, tc.contentType, tc.body)
			want := tc.want
			want.Status, want.Retryable = tc.status, tc.status == 429
			got := decodeErr(t, client.Decoder{}, resp)
			assert.Equal(t, &want, got, "Decode(%.60s) = %+v, want %+v", tc.body, got, &want)
		})
	}
}
