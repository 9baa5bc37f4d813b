package reference_test

import (
	"bytes"
	"fmt"
	"net/http/httptest"
	"strings"

	"github.com/faultline-go/faultline/catalog"
	"github.com/faultline-go/faultline/catalog/reference"
	"github.com/faultline-go/faultline/problem"
)

func ExampleReference_Handler() {
	cfg := problem.Config{Prefix: "BLUM", TypeBaseURI: "https://api.example.com/errors"}
	ref, err := reference.New(reference.Config{Problem: cfg})
	if err != nil {
		panic(err)
	}
	h, err := ref.Handler("/errors")
	if err != nil {
		panic(err)
	}
	// A problem type https://api.example.com/errors/not-found resolves here.
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/errors/not-found", nil))
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"))
	fmt.Print(rec.Body)
	// Output:
	// 200 application/json; charset=utf-8
	// {"name":"NOT_FOUND","anchor":"not-found","status":404,"flat":"BLUM-404-001","google":"NOT_FOUND","tracked":"NOT_FOUND","retryable":false,"message":"Resource not found.","resolution":"Verify the URL and that the id exists and belongs to your tenant."}
}

func ExampleReference_Examples() {
	ref, err := reference.New(reference.Config{Envelopes: []string{problem.EnvelopeGoogle, problem.EnvelopeFlat}})
	if err != nil {
		panic(err)
	}
	for _, ex := range ref.Examples(catalog.ResourceExhausted) {
		fmt.Printf("%s: %s\n", ex.Envelope, ex.Body)
	}
	// Output:
	// google: {"error":{"code":429,"status":"RESOURCE_EXHAUSTED","message":"Rate limit exceeded.","details":[{"reason":"RESOURCE_EXHAUSTED","metadata":{"policy":"default"}}]}}
	// flat: {"code":"ERR-429-001","message":"Rate limit exceeded."}
}

func ExampleReference_WriteMarkdown() {
	ref, err := reference.New(reference.Config{Envelopes: []string{}})
	if err != nil {
		panic(err)
	}
	var buf bytes.Buffer
	if err := ref.WriteMarkdown(&buf); err != nil {
		panic(err)
	}
	for _, line := range strings.Split(buf.String(), "\n") {
		if strings.HasPrefix(line, "# ") || strings.HasPrefix(line, "## ") || strings.Contains(line, "[`NOT_FOUND`]") || line == "### `NOT_FOUND`" {
			fmt.Println(line)
		}
	}
	// Output:
	// # Error reference
	// ## Client errors (4xx)
	// | [`NOT_FOUND`](#not-found) | 404 | `ERR-404-001` | `NOT_FOUND` | `NOT_FOUND` | `NOT_FOUND` | `about:blank` | Not Found | no | Resource not found. | Verify the URL and that the id exists and belongs to your tenant. |
	// ## Server errors (5xx)
	// ## Codes
	// ### `NOT_FOUND`
}
