package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/problem"
)

const invalidQuantity = "Invalid quantity. Must be a positive number."

// TestServerErrors sends every failing request the demo knows in every
// envelope and checks status, code, message and named fields.
func TestServerErrors(t *testing.T) {
	tests := []struct {
		name    string
		method  string
		path    string
		body    string
		header  map[string]string
		status  int
		code    code
		message string            // exact message, when set
		fields  []string          // fields the error must name
		headers map[string]string // response headers, when set
	}{
		{name: "account missing", method: "GET", path: "/v1/accounts/acc_2",
			status: 404, code: codeNotFound, message: "Account not found."},
		{name: "unknown path", method: "GET", path: "/no/such/path",
			status: 404, code: codeNotFound, message: "No resource matches the request path."},
		{name: "unknown path under v1", method: "GET", path: "/v1/nope",
			status: 404, code: codeNotFound},
		{name: "method not allowed", method: "DELETE", path: "/v1/orders",
			status: 405, code: codeMethodNotAllowed, headers: map[string]string{"Allow": "POST"}},
		{name: "malformed JSON", method: "POST", path: "/v1/orders", body: `{"symbol":"AAPL",`,
			status: 400, code: codeInvalidArgument},
		{name: "trailing data", method: "POST", path: "/v1/orders", body: `{"symbol":"AAPL","quantity":1} {}`,
			status: 400, code: codeInvalidArgument},
		{name: "empty body", method: "POST", path: "/v1/orders",
			status: 400, code: codeInvalidArgument, message: "Request body must not be empty."},
		{name: "missing symbol", method: "POST", path: "/v1/orders", body: `{"quantity":5}`,
			status: 400, code: codeMissingField, message: "Missing required field: symbol.", fields: []string{"symbol"}},
		{name: "blank symbol", method: "POST", path: "/v1/orders", body: `{"symbol":"  ","quantity":5}`,
			status: 400, code: codeMissingField, fields: []string{"symbol"}},
		{name: "missing quantity", method: "POST", path: "/v1/orders", body: `{"symbol":"AAPL"}`,
			status: 400, code: codeMissingField, message: "Missing required field: quantity.", fields: []string{"quantity"}},
		{name: "quantity -1", method: "POST", path: "/v1/orders", body: `{"symbol":"AAPL","quantity":-1}`,
			status: 400, code: codeInvalidArgument, message: invalidQuantity, fields: []string{"quantity"}},
		{name: "quantity 0", method: "POST", path: "/v1/orders", body: `{"symbol":"AAPL","quantity":0}`,
			status: 400, code: codeInvalidArgument, message: invalidQuantity, fields: []string{"quantity"}},
		{name: "quantity abc", method: "POST", path: "/v1/orders", body: `{"symbol":"AAPL","quantity":"abc"}`,
			status: 400, code: codeInvalidArgument, message: invalidQuantity, fields: []string{"quantity"}},
		{name: "quantity string 5", method: "POST", path: "/v1/orders", body: `{"symbol":"AAPL","quantity":"5"}`,
			status: 400, code: codeInvalidArgument, message: invalidQuantity, fields: []string{"quantity"}},
		{name: "quantity over maximum", method: "POST", path: "/v1/orders", body: `{"symbol":"AAPL","quantity":1000001}`,
			status: 422, code: codeFailedPrecond, message: "Quantity exceeds the maximum of 1000000 per order.", fields: []string{"quantity"}},
		{name: "empty object", method: "POST", path: "/v1/orders", body: `{}`,
			status: 400, code: codeInvalidArgument, message: "Request validation failed for fields: symbol, quantity.",
			fields: []string{"symbol", "quantity"}},
		{name: "symbol of the wrong type", method: "POST", path: "/v1/orders", body: `{"symbol":5,"quantity":1}`,
			status: 400, code: codeInvalidFormat, fields: []string{"symbol"}},
		{name: "text/plain", method: "POST", path: "/v1/orders", body: `{"symbol":"AAPL","quantity":1}`,
			header: map[string]string{"Content-Type": "text/plain"}, status: 415, code: codeUnsupportedMedia},
		{name: "JSON in latin1", method: "POST", path: "/v1/orders", body: `{"symbol":"AAPL","quantity":1}`,
			header: map[string]string{"Content-Type": "application/json; charset=iso-8859-1"}, status: 415, code: codeUnsupportedMedia},
		{name: "body over 1 MiB", method: "POST", path: "/v1/orders",
			body:   `{"symbol":"` + strings.Repeat("A", 1<<20) + `","quantity":1}`,
			status: 413, code: codePayloadTooLarge},
		{name: "slow ms not a number", method: "GET", path: "/v1/slow?ms=abc",
			status: 400, code: codeInvalidArgument, fields: []string{"ms"}},
		{name: "slow ms negative", method: "GET", path: "/v1/slow?ms=-1",
			status: 400, code: codeInvalidArgument, fields: []string{"ms"}},
		{name: "slow ms above limit", method: "GET", path: "/v1/slow?ms=10001",
			status: 400, code: codeInvalidArgument, fields: []string{"ms"}},
	}
	for _, envelope := range envelopes {
		t.Run(envelope, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, envelope, false)
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					resp, body := s.do(t, tt.method, tt.path, tt.body, tt.header)
					got := s.checkError(t, resp, body, tt.status, tt.code)
					if tt.message != "" {
						assert.Equal(t, tt.message, got.Message, "%s %s: message = %q, want %q", tt.method, tt.path, got.Message, tt.message)
					}
					if tt.fields != nil {
						s.checkFields(t, got, tt.fields)
					}
					for k, want := range tt.headers {
						assert.Equal(t, want, resp.Header.Get(k), "%s %s: header %s = %q, want %q", tt.method, tt.path, k, resp.Header.Get(k), want)
					}
				})
			}
		})
	}
}

func TestServerSuccess(t *testing.T) {
	for _, envelope := range envelopes {
		t.Run(envelope, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, envelope, false)

			t.Run("healthz", func(t *testing.T) {
				resp, body := s.do(t, "GET", "/healthz", "", nil)
				var got map[string]string
				checkJSON(t, resp, body, 200, &got)
				assert.Equal(t, map[string]string{"status": "ok"}, got, "GET /healthz = %v", got)
			})
			t.Run("account found", func(t *testing.T) {
				resp, body := s.do(t, "GET", "/v1/accounts/acc_1", "", nil)
				var got map[string]string
				checkJSON(t, resp, body, 200, &got)
				assert.Equal(t, "acc_1", got["id"], "GET /v1/accounts/acc_1 id = %q, want %q", got["id"], "acc_1")
				assert.Equal(t, "USD", got["currency"], "GET /v1/accounts/acc_1 currency = %q, want %q", got["currency"], "USD")
			})
			t.Run("slow but in time", func(t *testing.T) {
				resp, body := s.do(t, "GET", "/v1/slow?ms=5", "", nil)
				var got map[string]int
				checkJSON(t, resp, body, 200, &got)
				assert.Equal(t, map[string]int{"slept_ms": 5}, got, "GET /v1/slow?ms=5 = %v", got)
			})
			t.Run("error catalog", func(t *testing.T) {
				resp, body := s.do(t, "GET", "/errors", "", map[string]string{"Accept": "text/markdown"})
				require.Equal(t, 200, resp.StatusCode, "GET /errors status = %d, want 200", resp.StatusCode)
				assert.Equal(t, "text/markdown; charset=utf-8", resp.Header.Get("Content-Type"), "GET /errors Content-Type")
				assert.Contains(t, string(body), "| [`DUPLICATE_ORDER`](#duplicate-order) | 409 | `BLUM-409-002` |", "GET /errors lacks the demo's own code")
			})
		})
	}
}

func TestServerOrders(t *testing.T) {
	for _, envelope := range envelopes {
		t.Run(envelope, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, envelope, false)
			order := `{"client_order_id":"co_1","symbol":"AAPL","quantity":5}`

			resp, body := s.do(t, "POST", "/v1/orders", order, nil)
			var created struct {
				ID, ClientOrderID, Symbol, Status string
				Quantity                          float64
			}
			checkJSON(t, resp, body, 201, &created)
			assert.Regexp(t, `^ord_\d+$`, created.ID, "POST /v1/orders id = %q", created.ID)
			assert.Equal(t, "/v1/orders/"+created.ID, resp.Header.Get("Location"), "POST /v1/orders Location")
			assert.Equal(t, "AAPL", created.Symbol, "POST /v1/orders symbol")
			assert.Equal(t, 5.0, created.Quantity, "POST /v1/orders quantity")
			assert.Equal(t, "accepted", created.Status, "POST /v1/orders status")

			resp, body = s.do(t, "POST", "/v1/orders", order, nil)
			got := s.checkError(t, resp, body, 409, codeDuplicateOrder)
			assert.Equal(t, "An order with this client_order_id already exists.", got.Message, "duplicate POST /v1/orders message")
			assert.Empty(t, resp.Header.Get("Location"), "duplicate POST /v1/orders Location = %q, want none", resp.Header.Get("Location"))

			// Another client_order_id, and none at all, are new orders.
			resp, body = s.do(t, "POST", "/v1/orders", `{"client_order_id":"co_2","symbol":"AAPL","quantity":5}`, nil)
			checkJSON(t, resp, body, 201, &created)
			for range 2 {
				resp, body = s.do(t, "POST", "/v1/orders", `{"symbol":"MSFT","quantity":0.5}`, nil)
				checkJSON(t, resp, body, 201, &created)
			}
		})
	}
}

// TestServerTimeout checks that the 100ms Timeout answers a handler that
// sleeps 500ms with 504 in well under 400ms. The subtests run one at a time,
// and a slow answer is retried twice: on a machine busy enough to starve the
// serving goroutine for a few hundred milliseconds, one late answer says
// nothing about the timeout, while a timeout that does not work fails every
// attempt.
func TestServerTimeout(t *testing.T) {
	const attempts = 3
	for _, envelope := range envelopes {
		t.Run(envelope, func(t *testing.T) {
			s := startServer(t, envelope, false)
			var tries []string
			for range attempts {
				start := time.Now()
				resp, body := s.do(t, "GET", "/v1/slow?ms=500", "", nil)
				elapsed := time.Since(start)
				if resp.StatusCode != 504 || elapsed >= 400*time.Millisecond {
					tries = append(tries, fmt.Sprintf("%d after %v", resp.StatusCode, elapsed))
					continue
				}
				got := s.checkError(t, resp, body, 504, codeDeadlineExceeded)
				assert.GreaterOrEqual(t, elapsed, slowTimeout, "GET /v1/slow?ms=500 took %v, want at least the timeout", elapsed)
				assert.Equal(t, "The request did not complete within 100ms.", got.Message, "GET /v1/slow?ms=500 message")
				return
			}
			t.Errorf("GET /v1/slow?ms=500 = %s, want 504 within 400ms", strings.Join(tries, ", "))
		})
	}
}

// secrets are in the panic value and the error of the failing routes; they
// must reach the log and never the client.
var secrets = []string{"sk_live", "password", "Hunter2", "postgres", "10.0.0.7", "goroutine", "server.go"}

func TestServerSanitizedInternalErrors(t *testing.T) {
	tests := []struct {
		name     string
		path     string
		logError string // in the log record's error attribute
		panics   bool
	}{
		{"panic", "/v1/panic", "sk_live_4eC39HqLyjWDarjtT1zdp7dc", true},
		{"returned error", "/v1/fail", "password=Hunter2-Secret", false},
	}
	for _, envelope := range envelopes {
		t.Run(envelope, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, envelope, false)
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					resp, body := s.do(t, "GET", tt.path, "", nil)
					got := s.checkError(t, resp, body, 500, codeInternal)

					for _, secret := range secrets {
						assert.NotContains(t, string(body), secret, "GET %s body leaks %q: %s", tt.path, secret, body)
						for k, vv := range resp.Header {
							assert.NotContains(t, strings.Join(vv, " "), secret, "GET %s header %s leaks %q", tt.path, k, secret)
						}
					}
					require.Regexp(t, `^`+excIDPattern.String()+`$`, got.ExcID, "GET %s exc_ id = %q; body %s", tt.path, got.ExcID, body)
					assert.Equal(t, []string{got.ExcID}, excIDPattern.FindAllString(string(body), -1), "GET %s body names one exc_ id", tt.path)
					if envelope == problem.EnvelopeFlat {
						assert.Equal(t, "An internal error has occurred. Reference: "+got.ExcID+".", got.Message, "GET %s flat message", tt.path)
					} else {
						assert.Equal(t, "An internal error has occurred.", got.Message, "GET %s message", tt.path)
					}

					// The renderer logs before it writes, so the record is there.
					rec := s.logs.find(t, "exc_id", got.ExcID)
					require.NotNil(t, rec, "no log record with exc_id %s; log:\n%s", got.ExcID, s.logs.String())
					assert.Equal(t, "ERROR", rec["level"], "log level")
					assert.Equal(t, "internal error", rec["msg"], "log msg")
					assert.Equal(t, 500.0, rec["status"], "log status")
					assert.Equal(t, "INTERNAL", rec["code"], "log code")
					assert.Equal(t, tt.path, rec["path"], "log path")
					assert.Equal(t, "GET", rec["method"], "log method")
					assert.Equal(t, resp.Header.Get(problem.HeaderRequestID), rec["request_id"], "log request_id, want the X-Request-Id header")
					assert.NotEmpty(t, rec["error_chain"], "log error_chain")
					if tt.panics {
						assert.Contains(t, rec["panic"], tt.logError, "log panic = %q, want the panic value", rec["panic"])
						assert.NotContains(t, rec, "error", "log record of a panic repeats its value as error")
						assert.Contains(t, rec["stack"], "(*service).panics", "log stack, want the panicking function")
					} else {
						assert.Contains(t, rec["error"], tt.logError, "log error = %q, want the cause", rec["error"])
						assert.NotContains(t, rec, "stack", "log record of a returned error has a stack")
					}
				})
			}
		})
	}
}

func TestServerHead(t *testing.T) {
	for _, envelope := range envelopes {
		t.Run(envelope, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, envelope, false)
			resp, body := s.do(t, "HEAD", "/no/such/path", "", nil)
			assert.Equal(t, 404, resp.StatusCode, "HEAD /no/such/path status = %d, want 404", resp.StatusCode)
			assert.Empty(t, body, "HEAD /no/such/path body = %q, want none", body)
			assert.Equal(t, contentType(envelope), resp.Header.Get("Content-Type"), "HEAD /no/such/path Content-Type")
		})
	}
}

func TestServerMaintenance(t *testing.T) {
	routes := []struct {
		method string
		path   string
		body   string
	}{
		{"GET", "/v1/accounts/acc_1", ""},
		{"GET", "/v1/accounts/acc_2", ""},
		{"POST", "/v1/orders", `{"client_order_id":"co_1","symbol":"AAPL","quantity":5}`},
		{"POST", "/v1/orders", `{}`},
		{"GET", "/v1/panic", ""},
		{"GET", "/v1/fail", ""},
		{"GET", "/v1/slow?ms=5", ""},
		{"GET", "/v1/slow?ms=500", ""},
		{"DELETE", "/v1/orders", ""},
		{"GET", "/v1/nope", ""},
	}
	for _, envelope := range envelopes {
		t.Run(envelope, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, envelope, true)
			for _, rt := range routes {
				t.Run(rt.method+" "+rt.path, func(t *testing.T) {
					resp, body := s.do(t, rt.method, rt.path, rt.body, nil)
					got := s.checkError(t, resp, body, 503, codeUnavailable)
					assert.Equal(t, "60", resp.Header.Get(problem.HeaderRetryAfter), "%s %s Retry-After", rt.method, rt.path)
					assert.Equal(t, "The service is down for maintenance.", got.Message, "%s %s message", rt.method, rt.path)
				})
			}
			t.Run("healthz", func(t *testing.T) {
				resp, body := s.do(t, "GET", "/healthz", "", nil)
				var got map[string]string
				checkJSON(t, resp, body, 200, &got)
				assert.Empty(t, resp.Header.Get(problem.HeaderRetryAfter), "GET /healthz Retry-After")
			})
			t.Run("errors", func(t *testing.T) {
				resp, _ := s.do(t, "GET", "/errors", "", nil)
				assert.Equal(t, 200, resp.StatusCode, "GET /errors status = %d, want 200", resp.StatusCode)
			})
			t.Run("handlers did not run", func(t *testing.T) {
				for _, rec := range s.logs.records(t) {
					assert.NotEqual(t, "ERROR", rec["level"], "log record %v, want no internal error in maintenance", rec)
				}
			})
		})
	}
}
