package openapi_test

import (
	"encoding/json"
	"fmt"

	"github.com/faultline-go/faultline/catalog"
	"github.com/faultline-go/faultline/openapi"
	"github.com/faultline-go/faultline/problem"
)

func ExampleGenerator_RouteResponses() {
	g, err := openapi.New(openapi.Config{Problem: problem.Config{Envelope: problem.EnvelopeGoogle, Prefix: "BLUM"}})
	if err != nil {
		panic(err)
	}
	route := openapi.Responses("GET", "/v1/accounts/{id}", catalog.NotFound).With(openapi.Recover)
	responses, err := g.RouteResponses(route)
	if err != nil {
		panic(err)
	}
	out, _ := json.MarshalIndent(responses, "", "  ")
	fmt.Println(string(out))
	// Output:
	// {
	//   "404": {
	//     "$ref": "#/components/responses/NOT_FOUND"
	//   },
	//   "500": {
	//     "$ref": "#/components/responses/INTERNAL"
	//   }
	// }
}

func ExampleMiddleware_Codes() {
	for _, m := range []openapi.Middleware{openapi.RequestID, openapi.KeyAuth, openapi.RateLimit, openapi.Timeout, openapi.DecodeJSON} {
		fmt.Println(m, m.Codes())
	}
	// Output:
	// RequestID []
	// KeyAuth [MISSING_AUTHORIZATION MALFORMED_CREDENTIALS INVALID_CREDENTIALS]
	// RateLimit [RESOURCE_EXHAUSTED UNAVAILABLE]
	// Timeout [DEADLINE_EXCEEDED]
	// DecodeJSON [INVALID_ARGUMENT INVALID_FORMAT REQUEST_TIMEOUT PAYLOAD_TOO_LARGE UNSUPPORTED_MEDIA_TYPE]
}
