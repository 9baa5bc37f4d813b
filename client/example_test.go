package client_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"

	"github.com/faultline-go/faultline/client"
)

func ExampleDecode() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("X-Request-Id", "2564ffeb-6a4a-4be3-b586-d2b778787f29")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":{"code":400,"status":"MISSING_FIELD","message":"Missing required field: symbol.",`+
			`"details":[{"reason":"MISSING_FIELD","description":"Missing required field: symbol.","metadata":{"field":"symbol"}}]}}`)
	}))
	defer srv.Close()

	resp, err := http.Post(srv.URL+"/v1/orders", "application/json", nil)
	if err != nil {
		panic(err)
	}
	err = client.Decode(resp) // reads, drains and closes the body
	var apiErr *client.Error
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.Status, apiErr.Envelope, apiErr.Code, apiErr.Retryable)
		for _, v := range apiErr.Violations {
			fmt.Printf("%s: %s (%s)\n", v.Field, v.Description, v.Reason)
		}
		fmt.Println("request id:", apiErr.RequestID)
	}
	// Output:
	// 400 google MISSING_FIELD false
	// symbol: Missing required field: symbol. (MISSING_FIELD)
	// request id: 2564ffeb-6a4a-4be3-b586-d2b778787f29
}

func ExampleDecode_proxyPage() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		io.WriteString(w, "<html><body><h1>502 Bad Gateway</h1></body></html>\n")
	}))
	defer srv.Close()

	resp, err := http.Get(srv.URL)
	if err != nil {
		panic(err)
	}
	err = client.Decode(resp)
	fmt.Println(err)
	// Output:
	// client: 502 BAD_GATEWAY: "<html><body><h1>502 Bad Gateway</h1></body></html>"
}

func ExampleNewTransport() {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `{"code":"ERR-503-001","message":"Service temporarily unavailable."}`)
			return
		}
		io.WriteString(w, "ok\n")
	}))
	defer srv.Close()

	tr, err := client.NewTransport(client.Config{
		OnAttempt: func(a client.Attempt) {
			fmt.Printf("attempt %d: %d %s retry=%v wait=%v breaker=%s\n", a.Attempt, a.Status, a.Code, a.Retry, a.Wait, a.Breaker)
		},
	})
	if err != nil {
		panic(err)
	}
	hc := &http.Client{Transport: tr}
	resp, err := hc.Get(srv.URL + "/v1/accounts/acc_1")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	if err := client.Decode(resp); err != nil {
		panic(err)
	}
	body, _ := io.ReadAll(resp.Body)
	fmt.Printf("%d %s", resp.StatusCode, body)
	// Output:
	// attempt 1: 503 UNAVAILABLE retry=true wait=0s breaker=closed
	// attempt 2: 200  retry=false wait=0s breaker=closed
	// 200 ok
}

func ExampleParseRateLimit() {
	quotas, err := client.ParseRateLimit(`"sandbox";r=8;t=1, "reports";r=0;t=1`)
	if err != nil {
		panic(err)
	}
	for _, q := range quotas {
		fmt.Printf("%s: %d left, full again in %v\n", q.Policy, q.Remaining, q.Reset)
	}
	// Output:
	// sandbox: 8 left, full again in 1s
	// reports: 0 left, full again in 1s
}

func ExampleCircuitOpenError() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer srv.Close()

	tr, err := client.NewTransport(client.Config{MaxAttempts: 1, Breaker: client.BreakerConfig{Failures: 2}})
	if err != nil {
		panic(err)
	}
	hc := &http.Client{Transport: tr}
	for range 3 {
		resp, err := hc.Get(srv.URL)
		var open *client.CircuitOpenError
		switch {
		case errors.As(err, &open):
			fmt.Println("failed fast; circuit", open.State, "until the open period ends")
		case err != nil:
			panic(err)
		default:
			resp.Body.Close()
			fmt.Println(resp.StatusCode)
		}
	}
	// Output:
	// 500
	// 500
	// failed fast; circuit open until the open period ends
}
