// Command e2e serves the same JSON 200 two ways, for an end-to-end load
// comparison with wrk: -mode bare is a chi router alone; -mode faultline
// adds RequestID, Recover, KeyAuth and the rate limiter (with a limit high
// enough never to refuse).
package main

import (
	"flag"
	"log"
	"log/slog"
	"net/http"

	"github.com/go-chi/chi/v5"
	"golang.org/x/time/rate"

	"github.com/faultline-go/faultline/middleware"
	"github.com/faultline-go/faultline/problem"
	"github.com/faultline-go/faultline/ratelimit"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18200", "listen address")
	mode := flag.String("mode", "bare", "bare or faultline")
	flag.Parse()

	body := []byte(`{"id":"acc_1","name":"Demo account","currency":"USD","balance":"1000.00"}`)
	handler := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = w.Write(body)
	}
	r := chi.NewRouter()
	switch *mode {
	case "bare":
	case "faultline":
		keys, err := middleware.NewStaticKeys(middleware.KeyPair{Key: "demo-key", Secret: "demo-secret"})
		if err != nil {
			log.Fatal(err)
		}
		rd := problem.MustRenderer(problem.Config{Logger: slog.New(slog.DiscardHandler)})
		lim := ratelimit.MustNew(ratelimit.Config{Policy: ratelimit.Policy{Name: "sandbox", Rate: rate.Limit(1e9), Burst: 1e9}})
		defer lim.Close()
		r.Use(middleware.RequestID, middleware.Recover(rd), middleware.KeyAuth(keys), lim.Handler)
	default:
		log.Fatalf("-mode %q: want bare or faultline", *mode)
	}
	r.Get("/v1/accounts/{id}", handler)
	log.Fatal(http.ListenAndServe(*addr, r))
}
