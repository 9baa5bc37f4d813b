package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// A request without credentials is a 401 MISSING_AUTHORIZATION, which the
// renderer's observer counts, and a scrape of /metrics shows.
func Example() {
	srv, err := newServer(config{Registry: prometheus.NewRegistry(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()

	srv.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/v1/accounts/acc_1", nil))
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for _, line := range strings.Split(w.Body.String(), "\n") {
		if strings.HasPrefix(line, "faultline_errors_total") {
			fmt.Println(line)
		}
	}
	// Output:
	// faultline_errors_total{code="MISSING_AUTHORIZATION",status="401"} 1
}
