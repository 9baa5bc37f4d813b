package middleware_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/faultline-go/faultline/catalog"
	"github.com/faultline-go/faultline/middleware"
	"github.com/faultline-go/faultline/problem"
)

// exampleRenderer answers in the flat envelope and logs nowhere, so the
// examples' output is only the responses.
func exampleRenderer() *problem.Renderer {
	return problem.MustRenderer(problem.Config{
		Envelope: problem.EnvelopeFlat,
		Logger:   slog.New(slog.DiscardHandler),
	})
}

// show prints the status, those of the named headers that are set, and the
// body of rec.
func show(rec *httptest.ResponseRecorder, headers ...string) {
	fmt.Println(rec.Code)
	for _, h := range headers {
		if v := rec.Header().Get(h); v != "" {
			fmt.Printf("%s: %s\n", h, v)
		}
	}
	fmt.Println(rec.Body.String())
}

func ExampleRequestID() {
	h := middleware.RequestID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "id in context:", middleware.RequestIDFromContext(r.Context()))
	}))

	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set(middleware.HeaderRequestID, "checkout-7f3a")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	show(rec, middleware.HeaderRequestID)
	// Output:
	// 200
	// X-Request-Id: checkout-7f3a
	// id in context: checkout-7f3a
}

func ExampleRecover() {
	h := middleware.RequestID(middleware.Recover(exampleRenderer())(http.HandlerFunc(
		func(w http.ResponseWriter, r *http.Request) {
			panic("connection string postgres://admin:secret@db")
		})))

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/orders", nil))

	fmt.Println(rec.Code, rec.Header().Get("Content-Type"))
	// The exc_ id is random; the log record carries it too, with the panic
	// value and the stack.
	fmt.Println(regexp.MustCompile(`exc_[0-9a-z]{26}`).ReplaceAllString(rec.Body.String(), "exc_…"))
	// Output:
	// 500 application/json; charset=utf-8
	// {"code":"ERR-500-001","message":"An internal error has occurred. Reference: exc_…."}
}

func ExampleHandle() {
	getOrder := func(w http.ResponseWriter, r *http.Request) error {
		if r.PathValue("id") != "1" {
			return problem.Newf(catalog.NotFound, "Order %s does not exist.", r.PathValue("id"))
		}
		_, err := io.WriteString(w, `{"id":"1"}`)
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /v1/orders/{id}", middleware.Handle(getOrder))
	h := middleware.Recover(exampleRenderer())(mux)

	for _, path := range []string{"/v1/orders/1", "/v1/orders/2"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		show(rec)
	}
	// Output:
	// 200
	// {"id":"1"}
	// 404
	// {"code":"ERR-404-001","message":"Order 2 does not exist."}
}

func ExampleNotFound() {
	r := chi.NewRouter()
	r.Use(middleware.Recover(exampleRenderer()))
	r.NotFound(middleware.NotFound)
	r.Get("/v1/orders", func(w http.ResponseWriter, r *http.Request) {})

	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/invoices", nil))
	show(rec)
	// Output:
	// 404
	// {"code":"ERR-404-001","message":"No resource matches the request path."}
}

func ExampleMethodNotAllowed() {
	r := chi.NewRouter()
	r.Use(middleware.Recover(exampleRenderer()))
	r.NotFound(middleware.NotFound)
	r.MethodNotAllowed(middleware.MethodNotAllowed)
	r.Get("/v1/orders", func(w http.ResponseWriter, r *http.Request) {})
	r.Post("/v1/orders", func(w http.ResponseWriter, r *http.Request) {})

	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodDelete, "/v1/orders", nil))
	show(rec, "Allow")
	// Output:
	// 405
	// Allow: GET, POST
	// {"code":"ERR-405-001","message":"Method DELETE is not allowed on this resource."}
}

func ExampleServeMux() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/items/{id}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "item %s", r.PathValue("id"))
	})
	h := middleware.Recover(exampleRenderer())(middleware.ServeMux(mux))

	for _, req := range []*http.Request{
		httptest.NewRequest(http.MethodGet, "/v1/items/7", nil),
		httptest.NewRequest(http.MethodPut, "/v1/items/7", nil),
		httptest.NewRequest(http.MethodGet, "/v1/users", nil),
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		show(rec, "Allow")
	}
	// Output:
	// 200
	// item 7
	// 405
	// Allow: GET, HEAD
	// {"code":"ERR-405-001","message":"Method PUT is not allowed on this resource."}
	// 404
	// {"code":"ERR-404-001","message":"No resource matches the request path."}
}

func ExampleTimeout() {
	finish := make(chan struct{})
	defer close(finish)
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-finish // work that ignores r.Context()
		_, _ = io.WriteString(w, "too late")
	})
	h := middleware.Recover(exampleRenderer())(middleware.Timeout(20 * time.Millisecond)(slow))

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/reports", nil))
	show(rec)
	// Output:
	// 504
	// {"code":"ERR-504-001","message":"The request did not complete within 20ms."}
}

func ExampleMaintenance() {
	sw := middleware.NewSwitch(true)
	h := middleware.Recover(exampleRenderer())(middleware.Maintenance(sw, 2*time.Minute)(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "served")
		})))

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/orders", nil))
	show(rec, "Retry-After")

	sw.Set(false) // maintenance over
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/orders", nil))
	show(rec)
	// Output:
	// 503
	// Retry-After: 120
	// {"code":"ERR-503-001","message":"The service is down for maintenance."}
	// 200
	// served
}
