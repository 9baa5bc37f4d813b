package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/problem"
)

func TestServerChunkedBodyTooLarge(t *testing.T) {
	for _, envelope := range envelopes {
		t.Run(envelope, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, envelope, false)
			body := io.MultiReader(strings.NewReader(`{"symbol":"`), strings.NewReader(strings.Repeat("A", 1<<20)),
				strings.NewReader(`","quantity":1}`))
			req, err := http.NewRequest("POST", s.url+"/v1/orders", body)
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/json")
			req.SetBasicAuth(defaultKeys[0].key, defaultKeys[0].secret)
			require.Zero(t, req.ContentLength, "request has a Content-Length, want it sent chunked")
			resp, got := s.send(t, req)
			s.checkError(t, resp, got, 413, codePayloadTooLarge)
		})
	}
}

// TestServerHostileInput sends odd and oversized input. Nothing may answer
// 500, and every error must be a well-formed envelope.
func TestServerHostileInput(t *testing.T) {
	deepArray := strings.Repeat("[", 10000)
	deepValue := `{"symbol":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `,"quantity":1}`
	deepObject := strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000)
	long := strings.Repeat("a", 10<<10)
	tests := []struct {
		name   string
		method string
		path   string
		body   string
		header map[string]string
		status int // 0: any status below 500
	}{
		{name: "10 KB path", method: "GET", path: "/" + long, status: 404},
		{name: "10 KB account id", method: "GET", path: "/v1/accounts/" + long, status: 404},
		{name: "NUL and unicode in path", method: "GET", path: "/v1/accounts/%00%E2%9C%93%F0%9F%92%A5", status: 404},
		{name: "NUL in unknown path", method: "GET", path: "/%00/%C3%A9t%C3%A9", status: 404},
		{name: "invalid UTF-8 in path", method: "GET", path: "/v1/accounts/%FF%FE", status: 404},
		{name: "encoded slash", method: "GET", path: "/v1/accounts/acc_1%2F..%2F..", status: 404},
		{name: "10 KB request id", method: "GET", path: "/healthz",
			header: map[string]string{problem.HeaderRequestID: long}, status: 200},
		{name: "10 KB request id on error", method: "GET", path: "/v1/accounts/acc_2",
			header: map[string]string{problem.HeaderRequestID: long}, status: 404},
		{name: "invalid UTF-8 in symbol", method: "POST", path: "/v1/orders", body: "{\"symbol\":\"\xff\xfe\",\"quantity\":1}"},
		{name: "invalid UTF-8 in key", method: "POST", path: "/v1/orders", body: "{\"\xff\":1,\"symbol\":\"AAPL\",\"quantity\":1}"},
		{name: "invalid UTF-8 in client_order_id", method: "POST", path: "/v1/orders",
			body: "{\"client_order_id\":\"\xc3\x28\",\"symbol\":\"AAPL\",\"quantity\":1}"},
		{name: "invalid UTF-8 outside strings", method: "POST", path: "/v1/orders", body: "{\"symbol\":\"AAPL\",\"quantity\":\xff}", status: 400},
		{name: "NUL escape in symbol", method: "POST", path: "/v1/orders", body: `{"symbol":"\u0000","quantity":1}`},
		{name: "lone surrogate in symbol", method: "POST", path: "/v1/orders", body: `{"symbol":"\ud800","quantity":1}`},
		{name: "byte order mark", method: "POST", path: "/v1/orders", body: "\xef\xbb\xbf{\"symbol\":\"AAPL\",\"quantity\":1}", status: 400},
		{name: "10000 open brackets", method: "POST", path: "/v1/orders", body: deepArray, status: 400},
		{name: "deeply nested symbol", method: "POST", path: "/v1/orders", body: deepValue, status: 400},
		{name: "deeply nested objects", method: "POST", path: "/v1/orders", body: deepObject, status: 400},
		{name: "quantity 1e400", method: "POST", path: "/v1/orders", body: `{"symbol":"AAPL","quantity":1e400}`, status: 400},
		{name: "quantity 1e308", method: "POST", path: "/v1/orders", body: `{"symbol":"AAPL","quantity":1e308}`, status: 422},
		{name: "quantity -0", method: "POST", path: "/v1/orders", body: `{"symbol":"AAPL","quantity":-0}`, status: 400},
		{name: "quantity 5e-324", method: "POST", path: "/v1/orders", body: `{"symbol":"AAPL","quantity":5e-324}`, status: 201},
		{name: "quantity NaN string", method: "POST", path: "/v1/orders", body: `{"symbol":"AAPL","quantity":"NaN"}`, status: 400},
		{name: "quantity Infinity string", method: "POST", path: "/v1/orders", body: `{"symbol":"AAPL","quantity":"Infinity"}`, status: 400},
		{name: "quantity bare NaN", method: "POST", path: "/v1/orders", body: `{"symbol":"AAPL","quantity":NaN}`, status: 400},
		{name: "quantity object", method: "POST", path: "/v1/orders", body: `{"symbol":"AAPL","quantity":{"$gt":0}}`, status: 400},
		{name: "quantity 400 digits", method: "POST", path: "/v1/orders",
			body: `{"symbol":"AAPL","quantity":1` + strings.Repeat("0", 400) + `}`, status: 400},
		{name: "body is a string", method: "POST", path: "/v1/orders", body: `"orders"`, status: 400},
		{name: "body is null", method: "POST", path: "/v1/orders", body: `null`, status: 400},
		{name: "duplicate keys", method: "POST", path: "/v1/orders", body: `{"symbol":"AAPL","symbol":"","quantity":1}`, status: 400},
		{name: "malformed Content-Type", method: "POST", path: "/v1/orders", body: `{"symbol":"AAPL","quantity":1}`,
			header: map[string]string{"Content-Type": "application/json; charset"}, status: 415},
		{name: "slow ms overflow", method: "GET", path: "/v1/slow?ms=99999999999999999999", status: 400},
		{name: "slow ms NUL", method: "GET", path: "/v1/slow?ms=%00", status: 400},
		{name: "slow ms repeated", method: "GET", path: "/v1/slow?ms=1&ms=abc", status: 200},
	}
	for _, envelope := range envelopes {
		t.Run(envelope, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, envelope, false)
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					resp, body := s.do(t, tt.method, tt.path, tt.body, tt.header)
					where := tt.method + " " + truncate(tt.path)
					assert.Less(t, resp.StatusCode, 500, "%s status = %d, want no 5xx; body %.300s", where, resp.StatusCode, body)
					if tt.status != 0 {
						assert.Equal(t, tt.status, resp.StatusCode, "%s status = %d, want %d; body %.300s", where, resp.StatusCode, tt.status, body)
					}
					require.True(t, json.Valid(body), "%s body %.300q is not valid JSON", where, body)
					if resp.StatusCode >= 400 {
						s.parseError(t, resp, body)
					} else {
						assert.Equal(t, problem.ContentTypeJSON, resp.Header.Get("Content-Type"), "%s Content-Type", where)
					}
					id := resp.Header.Get(problem.HeaderRequestID)
					assert.LessOrEqual(t, len(id), 128, "%s X-Request-Id is %d bytes, want at most 128", where, len(id))
				})
			}
		})
	}
}

// TestServerConcurrentOrders posts the same client_order_id from many
// goroutines: exactly one order is created.
func TestServerConcurrentOrders(t *testing.T) {
	s := startServer(t, problem.EnvelopeTracked, false)
	const n = 16
	statuses := make(chan int, n)
	for range n {
		go func() {
			req, err := http.NewRequest(http.MethodPost, s.url+"/v1/orders",
				strings.NewReader(`{"client_order_id":"same","symbol":"AAPL","quantity":1}`))
			if err != nil {
				statuses <- 0
				return
			}
			req.Header.Set("Content-Type", "application/json")
			req.SetBasicAuth(defaultKeys[0].key, defaultKeys[0].secret)
			resp, err := s.client.Do(req)
			if err != nil {
				statuses <- 0
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			statuses <- resp.StatusCode
		}()
	}
	counts := map[int]int{}
	for range n {
		counts[<-statuses]++
	}
	assert.Equal(t, map[int]int{201: 1, 409: n - 1}, counts, "statuses of %d identical POST /v1/orders", n)
}

func TestParseQuantity(t *testing.T) {
	tests := []struct {
		raw    string
		want   float64
		reason string // "" when valid
	}{
		{"5", 5, ""},
		{" 2.5 ", 2.5, ""},
		{"1e3", 1000, ""},
		{"", 0, "MISSING_FIELD"},
		{"null", 0, "MISSING_FIELD"},
		{"0", 0, "INVALID_ARGUMENT"},
		{"-1", 0, "INVALID_ARGUMENT"},
		{`"5"`, 0, "INVALID_ARGUMENT"},
		{"true", 0, "INVALID_ARGUMENT"},
		{"[1]", 0, "INVALID_ARGUMENT"},
		{"1e400", 0, "INVALID_ARGUMENT"},
	}
	for _, tt := range tests {
		t.Run(strconv.Quote(tt.raw), func(t *testing.T) {
			got, v := parseQuantity(json.RawMessage(tt.raw))
			if tt.reason == "" {
				require.Nil(t, v, "parseQuantity(%s) = _, %+v, want no violation", tt.raw, v)
				assert.Equal(t, tt.want, got, "parseQuantity(%s) = %v, want %v", tt.raw, got, tt.want)
				return
			}
			require.NotNil(t, v, "parseQuantity(%s) = %v, nil, want a %s violation", tt.raw, got, tt.reason)
			assert.Equal(t, tt.reason, v.Reason, "parseQuantity(%s) reason = %q, want %q", tt.raw, v.Reason, tt.reason)
			assert.Equal(t, "quantity", v.Field, "parseQuantity(%s) field = %q, want quantity", tt.raw, v.Field)
		})
	}
}
