package middleware_test

import (
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/go-chi/chi/v5"

	"github.com/faultline-go/faultline/middleware"
)

func ExampleStack() {
	keys, err := middleware.NewStaticKeys(middleware.KeyPair{Key: "demo-key", Secret: "demo-secret"})
	if err != nil {
		panic(err)
	}
	r := chi.NewRouter()
	// RequestID, Recover(rd), then authentication; a rate limiter's Handler
	// would follow KeyAuth.
	r.Use(middleware.Stack(exampleRenderer(), middleware.KeyAuth(keys)))
	r.NotFound(middleware.NotFound)
	r.Get("/v1/orders", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "orders of "+middleware.PrincipalFromContext(r.Context()).KeyID)
	})

	for _, key := range []string{"demo-key", "other-key"} {
		req := httptest.NewRequest(http.MethodGet, "/v1/orders", nil)
		req.SetBasicAuth(key, "demo-secret")
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		show(rec, "WWW-Authenticate")
	}
	// Output:
	// 200
	// orders of demo-key
	// 401
	// WWW-Authenticate: Basic realm="api", charset="UTF-8"
	// {"code":"ERR-401-003","message":"Invalid credentials."}
}
