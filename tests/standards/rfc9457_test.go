package standards

import (
	"bytes"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	rfcSchemaURL       = "https://standards.test/rfc9457-appendix-a.schema.json"
	faultlineSchemaURL = "https://standards.test/faultline-problem.schema.json"
	quotaExceeded      = "https://iana.org/assignments/http-problem-types#quota-exceeded"
)

// problemSchemas compiles the schema of RFC 9457 Appendix A and
// faultline's stricter one, with format assertions on (uri,
// uri-reference), so that a format violation fails validation.
func problemSchemas(t *testing.T) (rfc, strict *jsonschema.Schema) {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	for url, file := range map[string]string{
		rfcSchemaURL:       "testdata/rfc9457-appendix-a.schema.json",
		faultlineSchemaURL: "testdata/faultline-problem.schema.json",
	} {
		f, err := os.Open(file)
		require.NoError(t, err)
		doc, err := jsonschema.UnmarshalJSON(f)
		f.Close()
		require.NoError(t, err, "schema %s", file)
		require.NoError(t, c.AddResource(url, doc), "AddResource(%s)", file)
	}
	var err error
	rfc, err = c.Compile(rfcSchemaURL)
	require.NoError(t, err, "Compile(RFC 9457 schema)")
	strict, err = c.Compile(faultlineSchemaURL)
	require.NoError(t, err, "Compile(faultline schema)")
	return rfc, strict
}

// uriReference is RFC 3986's URI-reference with every character class
// checked (the validator's uri-reference format parses with net/url, which
// lets non-ASCII and some delimiters through): an absolute URI, or a
// relative reference, made only of unreserved, reserved and %HH.
var uriReference = regexp.MustCompile(`^(?:[A-Za-z][A-Za-z0-9+.\-]*:)?(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?#\[\]]|%[0-9A-Fa-f]{2})*$`)

// checkProblem validates one problem body against both schemas and RFC
// 3986, and returns it decoded.
func checkProblem(t *testing.T, rfc, strict *jsonschema.Schema, where string, resp *http.Response, body []byte) map[string]any {
	t.Helper()
	assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"), "%s: Content-Type", where)
	return checkProblemBody(t, rfc, strict, where, body)
}

// checkProblemBody is checkProblem for a body whatever its content type.
func checkProblemBody(t *testing.T, rfc, strict *jsonschema.Schema, where string, body []byte) map[string]any {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	require.NoError(t, err, "%s: body %s is not JSON", where, body)
	assert.NoError(t, rfc.Validate(inst), "%s: body %s against RFC 9457 Appendix A", where, body)
	assert.NoError(t, strict.Validate(inst), "%s: body %s against faultline's problem schema", where, body)
	m, ok := inst.(map[string]any)
	require.True(t, ok, "%s: body %s is not an object", where, body)
	for _, member := range []string{"type", "instance"} {
		s, _ := m[member].(string)
		assert.Regexp(t, uriReference, s, "%s: %s %q is not an RFC 3986 URI reference", where, member, s)
	}
	return m
}

// TestDemoProblemBodiesMatchRFC9457 drives every failure the demo can
// produce in the problem envelope and validates each body.
func TestDemoProblemBodiesMatchRFC9457(t *testing.T) {
	rfc, strict := problemSchemas(t)
	d := startDemo(t, nil, "-envelope", "problem", "-rate", "1000")
	order := `{"symbol":"AAPL","quantity":1,"client_order_id":"standards-dup"}`
	tests := []struct {
		name     string
		req      request
		status   int
		code     string
		header   map[string]string // response headers
		instance string            // when set
	}{
		{"unknown path", request{method: "GET", path: "/no/such/path"}, 404, "NOT_FOUND", nil, "/no/such/path"},
		{"account missing", request{method: "GET", path: "/v1/accounts/acc_2", auth: true}, 404, "NOT_FOUND", nil, ""},
		{"405 on /healthz", request{method: "POST", path: "/healthz"}, 405, "METHOD_NOT_ALLOWED", map[string]string{"Allow": "GET"}, ""},
		{"405 on /v1/orders", request{method: "DELETE", path: "/v1/orders", auth: true}, 405, "METHOD_NOT_ALLOWED", map[string]string{"Allow": "POST"}, ""},
		{"401 missing", request{method: "GET", path: "/v1/accounts/acc_1"}, 401, "MISSING_AUTHORIZATION", nil, ""},
		{"401 malformed", request{method: "GET", path: "/v1/accounts/acc_1", header: map[string]string{"Authorization": "Basic !!!"}}, 401, "MALFORMED_CREDENTIALS", nil, ""},
		{"401 invalid", request{method: "GET", path: "/v1/accounts/acc_1", header: map[string]string{"Authorization": "Basic ZGVtby1rZXk6bm9wZQ=="}}, 401, "INVALID_CREDENTIALS", nil, ""},
		{"400 malformed JSON", request{method: "POST", path: "/v1/orders", body: `{"symbol":"AAPL",`, auth: true}, 400, "INVALID_ARGUMENT", nil, "/v1/orders"},
		{"400 trailing data", request{method: "POST", path: "/v1/orders", body: `{"symbol":"AAPL","quantity":1} {}`, auth: true}, 400, "INVALID_ARGUMENT", nil, ""},
		{"400 missing symbol", request{method: "POST", path: "/v1/orders", body: `{"quantity":5}`, auth: true}, 400, "MISSING_FIELD", nil, ""},
		{"400 two fields", request{method: "POST", path: "/v1/orders", body: `{}`, auth: true}, 400, "INVALID_ARGUMENT", nil, ""},
		{"400 wrong type", request{method: "POST", path: "/v1/orders", body: `{"symbol":5,"quantity":1}`, auth: true}, 400, "INVALID_FORMAT", nil, ""},
		{"400 bad quantity", request{method: "POST", path: "/v1/orders", body: `{"symbol":"AAPL","quantity":-1}`, auth: true}, 400, "INVALID_ARGUMENT", nil, ""},
		{"400 slow ms", request{method: "GET", path: "/v1/slow?ms=abc", auth: true}, 400, "INVALID_ARGUMENT", nil, "/v1/slow"},
		{"413", request{method: "POST", path: "/v1/orders", body: `{"symbol":"` + strings.Repeat("A", 1<<20) + `","quantity":1}`, auth: true}, 413, "PAYLOAD_TOO_LARGE", nil, ""},
		{"415", request{method: "POST", path: "/v1/orders", body: `{}`, auth: true, header: map[string]string{"Content-Type": "text/plain"}}, 415, "UNSUPPORTED_MEDIA_TYPE", nil, ""},
		{"422", request{method: "POST", path: "/v1/orders", body: `{"symbol":"AAPL","quantity":1000001}`, auth: true}, 422, "FAILED_PRECONDITION", nil, ""},
		{"first order", request{method: "POST", path: "/v1/orders", body: order, auth: true}, 201, "", nil, ""},
		{"409 duplicate", request{method: "POST", path: "/v1/orders", body: order, auth: true}, 409, "DUPLICATE_ORDER", nil, ""},
		{"500 panic", request{method: "GET", path: "/v1/panic", auth: true}, 500, "INTERNAL", nil, ""},
		{"500 fail", request{method: "GET", path: "/v1/fail", auth: true}, 500, "INTERNAL", nil, ""},
		{"504 slow", request{method: "GET", path: "/v1/slow?ms=300", auth: true}, 504, "DEADLINE_EXCEEDED", nil, "/v1/slow"},
		{"escaped percent", request{method: "GET", path: "/v1/accounts/a%25b", auth: true}, 404, "NOT_FOUND", nil, "/v1/accounts/a%25b"},
		{"escaped space", request{method: "GET", path: "/v1/accounts/a%20b", auth: true}, 404, "NOT_FOUND", nil, "/v1/accounts/a%20b"},
		{"escaped slash", request{method: "GET", path: "/v1/accounts/a%2Fb", auth: true}, 404, "NOT_FOUND", nil, "/v1/accounts/a%2Fb"},
		{"escaped non-ASCII and quote", request{method: "GET", path: "/v1/accounts/%C3%A9%22x", auth: true}, 404, "NOT_FOUND", nil, "/v1/accounts/%C3%A9%22x"},
		{"unknown path, escaped", request{method: "GET", path: "/%00/%C3%A9t%C3%A9%3Cx%3E"}, 404, "NOT_FOUND", nil, "/%00/%C3%A9t%C3%A9%3Cx%3E"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := d.do(t, tc.req)
			where := tc.req.method + " " + tc.req.path
			require.Equal(t, tc.status, resp.StatusCode, "%s: status; body %.300s", where, body)
			if tc.code == "" {
				return
			}
			m := checkProblem(t, rfc, strict, where, resp, body)
			assert.Equal(t, tc.code, m["code"], "%s: code", where)
			for k, v := range tc.header {
				assert.Equal(t, v, resp.Header.Get(k), "%s: header %s", where, k)
			}
			if tc.instance != "" {
				assert.Equal(t, tc.instance, m["instance"], "%s: instance", where)
			}
		})
	}

	t.Run("raw hostile paths", func(t *testing.T) {
		for target, want := range map[string]string{
			`/v1/accounts/"x"`:      "/v1/accounts/%22x%22",
			"/v1/accounts/\xc3\xa9": "/v1/accounts/%C3%A9",
			"/v1/accounts/[a]{b}|":  "/v1/accounts/%5Ba%5D%7Bb%7D%7C",
			"//evil.example/x":      "/.//evil.example/x",
			`/v1/a%2Fb"c`:           "/v1/a%2Fb%22c",
		} {
			resp, body := d.raw(t, target)
			require.Equal(t, http.StatusNotFound, resp.StatusCode, "GET %q: status; body %.300s", target, body)
			m := checkProblem(t, rfc, strict, "GET "+target, resp, body)
			assert.Equal(t, want, m["instance"], "GET %q: instance", target)
		}
	})

	t.Run("429 quota exceeded", func(t *testing.T) {
		var resp *http.Response
		var body []byte
		for range 3 { // the reports policy holds two requests per second
			resp, body = d.do(t, request{method: "GET", path: "/v1/reports", auth: true})
		}
		require.Equal(t, http.StatusTooManyRequests, resp.StatusCode, "third GET /v1/reports: status; body %s", body)
		m := checkProblem(t, rfc, strict, "GET /v1/reports", resp, body)
		assert.Equal(t, quotaExceeded, m["type"], "type of a 429")
		assert.Equal(t, "RESOURCE_EXHAUSTED", m["code"], "code of a 429")
		assert.NotEmpty(t, resp.Header.Get("Retry-After"), "Retry-After of a 429")
	})

	t.Run("503 maintenance", func(t *testing.T) {
		m := startDemo(t, nil, "-envelope", "problem", "-maintenance")
		resp, body := m.do(t, request{method: "GET", path: "/v1/accounts/acc_1", auth: true})
		require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "maintenance: status; body %s", body)
		got := checkProblem(t, rfc, strict, "maintenance", resp, body)
		assert.Equal(t, "UNAVAILABLE", got["code"], "maintenance: code")
	})
}

// TestSchemasRejectWhatTheyShould makes sure the validation above can
// fail: bodies that break the RFC's schema or faultline's.
func TestSchemasRejectWhatTheyShould(t *testing.T) {
	rfc, strict := problemSchemas(t)
	valid := `{"type":"about:blank","title":"Not Found","status":404,"detail":"x","instance":"/a%25b","code":"NOT_FOUND","request_id":"r","errors":[]}`
	tests := []struct {
		name, body string
		rfcFails   bool
	}{
		{"decoded percent in instance", strings.Replace(valid, `/a%25b`, `/a%b`, 1), true},
		{"status out of range", strings.Replace(valid, `404`, `600`, 1), true},
		{"status as a string", strings.Replace(valid, `404`, `"404"`, 1), true},
		{"relative type", strings.Replace(valid, `about:blank`, `/problems/x`, 1), false},
		{"errors null", strings.Replace(valid, `"errors":[]`, `"errors":null`, 1), false},
		{"no request_id", strings.Replace(valid, `"request_id":"r",`, ``, 1), false},
		{"quota-exceeded without violated-policies", strings.Replace(valid, `about:blank`, quotaExceeded, 1), false},
	}
	for _, tc := range tests {
		inst, err := jsonschema.UnmarshalJSON(strings.NewReader(tc.body))
		require.NoError(t, err, tc.name)
		if tc.rfcFails {
			assert.Error(t, rfc.Validate(inst), "%s: RFC schema accepted %s", tc.name, tc.body)
		}
		assert.Error(t, strict.Validate(inst), "%s: faultline schema accepted %s", tc.name, tc.body)
	}
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(valid))
	require.NoError(t, err)
	assert.NoError(t, rfc.Validate(inst), "RFC schema rejected %s", valid)
	assert.NoError(t, strict.Validate(inst), "faultline schema rejected %s", valid)
}

// TestDemoNegotiation checks content negotiation end to end, both ways:
// a google service answers a client that asks for problem+json with a
// valid problem body, and a problem service answers a JSON-only client
// with the same body as application/json.
func TestDemoNegotiation(t *testing.T) {
	rfc, strict := problemSchemas(t)
	env := []string{"FAULTLINE_NEGOTIATE=true"}

	google := startDemo(t, env, "-envelope", "google")
	resp, body := google.do(t, request{method: "GET", path: "/no/such/path", header: map[string]string{"Accept": "application/problem+json"}})
	require.Equal(t, http.StatusNotFound, resp.StatusCode, "body %s", body)
	checkProblem(t, rfc, strict, "google service, Accept problem+json", resp, body)
	assert.Equal(t, "Accept", resp.Header.Get("Vary"), "Vary")
	resp, body = google.do(t, request{method: "GET", path: "/no/such/path"})
	assert.Equal(t, "application/json; charset=utf-8", resp.Header.Get("Content-Type"), "google service, no Accept: Content-Type")
	assert.Contains(t, string(body), `"status":"NOT_FOUND"`, "google service, no Accept: body")

	prob := startDemo(t, env, "-envelope", "problem")
	resp, body = prob.do(t, request{method: "GET", path: "/v1/accounts/a%2Fb", auth: true, header: map[string]string{"Accept": "application/json"}})
	require.Equal(t, http.StatusNotFound, resp.StatusCode, "body %s", body)
	assert.Equal(t, "application/json; charset=utf-8", resp.Header.Get("Content-Type"), "problem service, Accept json: Content-Type")
	m := checkProblemBody(t, rfc, strict, "problem service, Accept json", body)
	assert.Equal(t, "/v1/accounts/a%2Fb", m["instance"], "instance")
}
