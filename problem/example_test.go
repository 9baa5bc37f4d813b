package problem_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/faultline-go/faultline/catalog"
	"github.com/faultline-go/faultline/problem"
)

func ExampleNewRenderer() {
	rd, err := problem.NewRenderer(problem.Config{
		Envelope: problem.EnvelopeFlat,
		Prefix:   "BLUM",
		Logger:   slog.New(slog.DiscardHandler),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rd.Write(w, r, problem.New(catalog.NotFound, "Order ord_42 not found."))
	})

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/orders/ord_42", nil))
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"))
	fmt.Println(rec.Body)
	// Output:
	// 404 application/json; charset=utf-8
	// {"code":"BLUM-404-001","message":"Order ord_42 not found."}
}

func ExampleNewRenderer_unknownEnvelope() {
	_, err := problem.NewRenderer(problem.Config{Envelope: "xml"})
	fmt.Println(err)
	// Output:
	// problem: unknown envelope "xml"; valid: flat, google, google-strict, problem, tracked
}

func ExampleValidation() {
	err := problem.Validation(
		problem.Violation{Field: "symbol", Reason: catalog.MissingField, Description: "Missing required field: symbol."},
		problem.Violation{Field: "quantity", Reason: catalog.InvalidArgument, Description: "Invalid quantity. Must be a positive number."},
	)
	fmt.Println(err.Code)
	fmt.Println(err.Message)

	// The google envelope lists one detail per field.
	rd := problem.MustRenderer(problem.Config{Envelope: problem.EnvelopeGoogle, Logger: slog.New(slog.DiscardHandler)})
	status, _, body := rd.Render(httptest.NewRequest(http.MethodPost, "/orders", nil), err)
	fmt.Println(status)
	fmt.Println(string(body))
	// Output:
	// INVALID_ARGUMENT
	// Request validation failed for fields: symbol, quantity.
	// 400
	// {"error":{"code":400,"status":"INVALID_ARGUMENT","message":"Request validation failed for fields: symbol, quantity.","details":[{"reason":"MISSING_FIELD","description":"Missing required field: symbol.","metadata":{"field":"symbol"}},{"reason":"INVALID_ARGUMENT","description":"Invalid quantity. Must be a positive number.","metadata":{"field":"quantity"}}]}}
}

func ExampleDecodeJSON() {
	rd := problem.MustRenderer(problem.Config{Envelope: problem.EnvelopeFlat, Logger: slog.New(slog.DiscardHandler)})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var order struct {
			Symbol   string `json:"symbol"`
			Quantity int    `json:"quantity"`
		}
		if err := problem.DecodeJSON(w, r, &order); err != nil {
			rd.Write(w, r, err)
			return
		}
		fmt.Fprintf(w, "%d x %s", order.Quantity, order.Symbol)
	})

	for _, body := range []string{`{"symbol":"ACME","quantity":3}`, `{"symbol":"ACME","quantity":"three"}`, `{"symbol":`} {
		req := httptest.NewRequest(http.MethodPost, "/orders", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		fmt.Println(rec.Code, rec.Body)
	}
	// Output:
	// 200 3 x ACME
	// 400 {"code":"ERR-400-003","message":"Field quantity must be an integer."}
	// 400 {"code":"ERR-400-001","message":"Malformed JSON at byte offset 10."}
}

func ExampleWrite() {
	rd := problem.MustRenderer(problem.Config{Envelope: problem.EnvelopeFlat, Logger: slog.New(slog.DiscardHandler)})

	// Middleware puts the renderer in the request context once...
	withRenderer := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(problem.NewContext(r.Context(), rd)))
		})
	}
	// ...and any handler below fails through it.
	h := withRenderer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		problem.Write(w, r, problem.New(catalog.MethodNotAllowed, "").WithHeader("Allow", "GET, HEAD"))
	}))

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodDelete, "/orders/ord_42", nil))
	fmt.Println(rec.Code, rec.Header().Get("Allow"))
	fmt.Println(rec.Body)
	// Output:
	// 405 GET, HEAD
	// {"code":"ERR-405-001","message":"Method not allowed."}
}

func ExampleConfigFromEnv() {
	environ := map[string]string{
		"FAULTLINE_ENVELOPE":           "google",
		"FAULTLINE_PREFIX":             "BLUM",
		"FAULTLINE_CLIENT_ERROR_LEVEL": "DEBUG",
	}
	lookup := func(name string) (string, bool) {
		v, ok := environ[name]
		return v, ok
	}
	cfg, err := problem.ConfigFromEnv(lookup)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg.Envelope, cfg.Prefix, cfg.ClientErrorLevel)

	environ["FAULTLINE_SERVER_ERROR_LEVEL"] = "LOUD"
	_, err = problem.ConfigFromEnv(lookup)
	fmt.Println(err)
	// Output:
	// google BLUM DEBUG
	// FAULTLINE_SERVER_ERROR_LEVEL="LOUD": problem: invalid config: want DEBUG, INFO, WARN or ERROR
}

func ExampleRenderer_Render() {
	rd := problem.MustRenderer(problem.Config{Envelope: problem.EnvelopeFlat, Logger: slog.New(slog.DiscardHandler)})
	err := problem.New(catalog.ResourceExhausted, "").WithRetryAfter(1500 * time.Millisecond)
	status, header, body := rd.Render(httptest.NewRequest(http.MethodGet, "/quotes", nil), err)
	fmt.Println(status, header.Get("Retry-After"))
	fmt.Println(string(body))
	// Output:
	// 429 2
	// {"code":"ERR-429-001","message":"Rate limit exceeded."}
}

func ExampleCodeOf() {
	err := fmt.Errorf("load order: %w", problem.New(catalog.NotFound, ""))
	fmt.Println(problem.CodeOf(err))
	fmt.Println(problem.CodeOf(fmt.Errorf("plain")) == "")
	// Output:
	// NOT_FOUND
	// true
}

func ExampleErrorObserver() {
	// Count errors by code, as a metrics system would.
	var mu sync.Mutex // guards counts
	counts := map[string]int{}
	rd := problem.MustRenderer(problem.Config{
		Logger: slog.New(slog.DiscardHandler),
		Observer: func(_ context.Context, ev problem.ErrorEvent) {
			mu.Lock()
			defer mu.Unlock()
			counts[fmt.Sprintf("%d %s", ev.Status, ev.Code)]++
		},
	})
	req := httptest.NewRequest(http.MethodGet, "/v1/orders/42", nil)
	for _, err := range []error{
		problem.New(catalog.NotFound, ""),
		problem.New(catalog.NotFound, ""),
		errors.New("db down"),
	} {
		rd.Write(httptest.NewRecorder(), req, err)
	}
	fmt.Println(counts)
	// Output:
	// map[404 NOT_FOUND:2 500 INTERNAL:1]
}

func ExampleConfig_clientLogLimit() {
	// At most 2 records per code per second; the next record written
	// says how many were dropped.
	var log bytes.Buffer
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	rd := problem.MustRenderer(problem.Config{
		Logger: slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{
			ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
				if a.Key == "time" || a.Key == "request_id" {
					return slog.Attr{}
				}
				return a
			},
		})),
		ClientLogLimit: 2,
		Now:            func() time.Time { return now },
	})
	req := httptest.NewRequest(http.MethodGet, "/nope", nil)
	for i := 0; i < 5; i++ {
		rd.Write(httptest.NewRecorder(), req, problem.New(catalog.NotFound, ""))
	}
	now = now.Add(time.Second)
	rd.Write(httptest.NewRecorder(), req, problem.New(catalog.NotFound, ""))
	fmt.Print(log.String())
	// Output:
	// level=INFO msg="client error" status=404 code=NOT_FOUND method=GET path=/nope message="Resource not found."
	// level=INFO msg="client error" status=404 code=NOT_FOUND method=GET path=/nope message="Resource not found."
	// level=INFO msg="client error" status=404 code=NOT_FOUND method=GET path=/nope message="Resource not found." suppressed=3
}
