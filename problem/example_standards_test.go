package problem_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/faultline-go/faultline/catalog"
	"github.com/faultline-go/faultline/middleware"
	"github.com/faultline-go/faultline/problem"
)

// serveExample answers req with err through rd behind middleware.RequestID,
// with a fixed incoming request id.
func serveExample(rd *problem.Renderer, req *http.Request, err error) *httptest.ResponseRecorder {
	req.Header.Set(problem.HeaderRequestID, "req-1")
	rec := httptest.NewRecorder()
	middleware.RequestID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rd.Write(w, r, err)
	})).ServeHTTP(rec, req)
	return rec
}

func ExampleError_WithPolicies() {
	rd := problem.MustRenderer(problem.Config{Logger: slog.New(slog.DiscardHandler)})
	err := problem.New(catalog.ResourceExhausted, "Rate limit exceeded for policy \"reports\".").
		WithPolicies("reports").
		WithRetryAfter(time.Second)

	rec := serveExample(rd, httptest.NewRequest(http.MethodGet, "/v1/reports", nil), err)
	fmt.Println(rec.Code, rec.Header().Get("Retry-After"))
	fmt.Println(rec.Body)
	// Output:
	// 429 1
	// {"type":"https://iana.org/assignments/http-problem-types#quota-exceeded","title":"Request cannot be satisfied as assigned quota has been exceeded","status":429,"detail":"Rate limit exceeded for policy \"reports\".","instance":"/v1/reports","code":"RESOURCE_EXHAUSTED","request_id":"req-1","errors":[],"violated-policies":["reports"]}
}

func ExampleGoogleStrictEnvelope() {
	rd := problem.MustRenderer(problem.Config{
		Envelope:    problem.EnvelopeGoogleStrict,
		ErrorDomain: "orders.example.com",
		Logger:      slog.New(slog.DiscardHandler),
	})
	err := problem.New(catalog.ResourceExhausted, "").WithMeta("policy", "reports").WithRetryAfter(2 * time.Second)

	rec := serveExample(rd, httptest.NewRequest(http.MethodGet, "/v1/reports", nil), err)
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"))
	fmt.Println(rec.Body)
	// Output:
	// 429 application/json; charset=utf-8
	// {"error":{"code":429,"message":"Rate limit exceeded.","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"RESOURCE_EXHAUSTED","domain":"orders.example.com","metadata":{"policy":"reports"}},{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"2s"},{"@type":"type.googleapis.com/google.rpc.RequestInfo","requestId":"req-1"}]}}
}

func ExampleGRPCCodeName() {
	for _, status := range []int{400, 401, 409, 422, 429, 503, 504} {
		fmt.Println(status, problem.GRPCCodeName(status))
	}
	// Output:
	// 400 INVALID_ARGUMENT
	// 401 UNAUTHENTICATED
	// 409 ABORTED
	// 422 FAILED_PRECONDITION
	// 429 RESOURCE_EXHAUSTED
	// 503 UNAVAILABLE
	// 504 DEADLINE_EXCEEDED
}

func ExampleConfig_docLinks() {
	rd := problem.MustRenderer(problem.Config{
		Envelope:    problem.EnvelopeTracked,
		TypeBaseURI: "https://errors.example.com/v1",
		DocLinks:    true,
		Now:         func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) },
		Logger:      slog.New(slog.DiscardHandler),
	})
	rec := serveExample(rd, httptest.NewRequest(http.MethodGet, "/v1/orders/ord_9", nil),
		problem.New(catalog.NotFound, "Order ord_9 not found."))
	fmt.Println(rec.Header().Get("Link"))
	fmt.Println(rec.Body)
	// Output:
	// <https://errors.example.com/v1/not-found>; rel="help"
	// {"error":{"code":"NOT_FOUND","message":"Order ord_9 not found.","details":{"documentation_url":"https://errors.example.com/v1/not-found"},"request_id":"req-1","timestamp":"2026-01-02T03:04:05.000Z"}}
}

func ExampleConfig_negotiate() {
	rd := problem.MustRenderer(problem.Config{
		Envelope:  problem.EnvelopeGoogle,
		Negotiate: true,
		Logger:    slog.New(slog.DiscardHandler),
	})
	for _, accept := range []string{"application/json", "application/problem+json", "application/problem+json;q=0.5, application/json"} {
		req := httptest.NewRequest(http.MethodGet, "/v1/orders/ord_9", nil)
		req.Header.Set("Accept", accept)
		rec := serveExample(rd, req, problem.New(catalog.NotFound, ""))
		fmt.Printf("%s -> %s\n", accept, rec.Header().Get("Content-Type"))
	}
	// Output:
	// application/json -> application/json; charset=utf-8
	// application/problem+json -> application/problem+json
	// application/problem+json;q=0.5, application/json -> application/json; charset=utf-8
}
