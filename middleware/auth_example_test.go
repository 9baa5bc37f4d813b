package middleware_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/faultline-go/faultline/middleware"
	"github.com/faultline-go/faultline/problem"
)

func ExampleKeyAuth() {
	keys, err := middleware.NewStaticKeys(middleware.KeyPair{
		Key:         "ak_demo",
		Secret:      "sk_demo_6b1f0c9e",
		Environment: "sandbox",
		Plan:        "gold",
	})
	if err != nil {
		panic(err)
	}
	rd := problem.MustRenderer(problem.Config{
		Envelope: problem.EnvelopeFlat,
		Prefix:   "BLUM",
		Logger:   slog.New(slog.DiscardHandler),
	})
	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := middleware.PrincipalFromContext(r.Context())
		fmt.Fprintf(w, "hello %s (%s, plan %s)\n", p.KeyID, p.Environment, p.Plan)
	})
	h := middleware.Recover(rd)(middleware.KeyAuth(keys)(hello))

	for _, secret := range []string{"", "wrong", "sk_demo_6b1f0c9e"} {
		req := httptest.NewRequest(http.MethodGet, "/v1/orders", nil)
		if secret != "" {
			req.SetBasicAuth("ak_demo", secret)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		fmt.Println(rec.Code, strings.TrimSpace(rec.Body.String()))
		if challenge := rec.Header().Get(middleware.HeaderWWWAuthenticate); challenge != "" {
			fmt.Println("   ", middleware.HeaderWWWAuthenticate+":", challenge)
		}
	}
	// Output:
	// 401 {"code":"BLUM-401-001","message":"Missing authorization."}
	//     WWW-Authenticate: Basic realm="api", charset="UTF-8"
	// 401 {"code":"BLUM-401-003","message":"Invalid credentials."}
	//     WWW-Authenticate: Basic realm="api", charset="UTF-8"
	// 200 hello ak_demo (sandbox, plan gold)
}
