package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/faultline-go/faultline/client"
	"github.com/faultline-go/faultline/problem"
)

// Example_client calls the demo service the way a Go caller would, and
// branches on what each error says: a validation error, a sanitized 500
// and a 429. Retries are off (MaxAttempts 1) so that each error reaches the
// caller as the service sent it; by default the transport would first
// retry the 500 with backoff and the 429 after its Retry-After.
func Example_client() {
	h, err := newServer(serverConfig{
		Problem: problem.Config{Envelope: problem.EnvelopeGoogle, Prefix: "BLUM",
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))},
		Rate: 1, // one request per second per key pair, to meet a 429
	})
	if err != nil {
		panic(err)
	}
	defer h.Close()
	srv := httptest.NewServer(h)
	defer srv.Close()

	tr, err := client.NewTransport(client.Config{MaxAttempts: 1})
	if err != nil {
		panic(err)
	}
	hc := &http.Client{Transport: tr}
	call := func(key, method, path, body string) error {
		req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		req.SetBasicAuth(key, strings.Replace(key, "key", "secret", 1))
		resp, err := hc.Do(req)
		if err != nil {
			return err // a network error, or a *client.CircuitOpenError
		}
		defer resp.Body.Close()
		return client.Decode(resp)
	}

	for _, c := range []struct{ key, method, path, body string }{
		{"demo-key-2", "POST", "/v1/orders", `{"quantity":5}`},
		{"demo-key", "GET", "/v1/fail", ""},
		{"demo-key", "GET", "/v1/accounts/acc_1", ""}, // the key's second request this second
	} {
		err := call(c.key, c.method, c.path, c.body)
		var apiErr *client.Error
		if !errors.As(err, &apiErr) {
			fmt.Println("unexpected:", err)
			continue
		}
		switch {
		case apiErr.Code == "RESOURCE_EXHAUSTED":
			fmt.Printf("%d %s: retry after %v (retryable %v)\n", apiErr.Status, apiErr.Code, apiErr.RetryAfter, apiErr.Retryable)
		case len(apiErr.Violations) > 0:
			for _, v := range apiErr.Violations {
				fmt.Printf("%d %s: fix %s: %s\n", apiErr.Status, apiErr.Code, v.Field, v.Description)
			}
		case apiErr.ExcID != "":
			fmt.Printf("%d %s: %q; quote the %d-character exc_ reference (retryable %v)\n",
				apiErr.Status, apiErr.Code, apiErr.Message, len(apiErr.ExcID), apiErr.Retryable)
		}
		fmt.Println("  request id logged:", apiErr.RequestID != "")
	}
	// Output:
	// 400 MISSING_FIELD: fix symbol: Missing required field: symbol.
	//   request id logged: true
	// 500 INTERNAL: "An internal error has occurred."; quote the 30-character exc_ reference (retryable true)
	//   request id logged: true
	// 429 RESOURCE_EXHAUSTED: retry after 1s (retryable true)
	//   request id logged: true
}
