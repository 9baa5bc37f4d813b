package catalog_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/faultline-go/faultline/catalog"
)

func ExampleNew() {
	c, err := catalog.New("BLUM")
	if err != nil {
		panic(err)
	}
	code, _ := c.Lookup(catalog.NotFound)
	fmt.Println(c.Len(), "built-in codes")
	fmt.Println("flat:   ", code.Flat)
	fmt.Println("google: ", code.Google)
	fmt.Println("tracked:", code.Tracked)
	fmt.Println("status: ", code.Status, code.Message)

	limited, _ := c.Lookup(catalog.ResourceExhausted)
	fmt.Println(limited.Flat, limited.Tracked, "retryable:", limited.Retryable)
	// Output:
	// 19 built-in codes
	// flat:    BLUM-404-001
	// google:  NOT_FOUND
	// tracked: NOT_FOUND
	// status:  404 Resource not found.
	// BLUM-429-001 RATE_LIMIT_EXCEEDED retryable: true
}

func ExampleCatalog_Register() {
	c := catalog.MustNew("BLUM")
	err := c.Register(catalog.Code{
		Name:       "DUPLICATE_ORDER",
		Status:     409,
		Message:    "An order with this client_order_id already exists.",
		Resolution: "Use a new client_order_id for a new order.",
	})
	if err != nil {
		panic(err)
	}
	code, _ := c.Lookup("DUPLICATE_ORDER")
	fmt.Println(code.Flat, code.Google, code.Tracked)

	// Names and flat codes are unique; a failed call registers nothing.
	err = c.Register(catalog.Code{Name: "DUPLICATE_ORDER", Status: 409})
	fmt.Println(errors.Is(err, catalog.ErrDuplicateName))
	// Output:
	// BLUM-409-002 DUPLICATE_ORDER CONFLICT
	// true
}

func ExampleCatalog_LookupFlat() {
	c := catalog.MustNew("BLUM")
	code, ok := c.LookupFlat("BLUM-401-002")
	fmt.Println(ok, code.Name, code.Status)
	fmt.Println(code.Resolution)
	// Output:
	// true MALFORMED_CREDENTIALS 401
	// Verify the Base64 encoding of API_KEY:API_SECRET.
}

func ExampleCatalog_WriteMarkdown() {
	c := catalog.MustNew("BLUM")
	var buf bytes.Buffer
	if err := c.WriteMarkdown(&buf); err != nil {
		panic(err)
	}
	lines := strings.SplitAfter(buf.String(), "\n")
	fmt.Print(strings.Join(lines[:4], ""))
	// Output:
	// | Name | HTTP | flat | google | tracked | Retryable | Message | Resolution |
	// |---|---|---|---|---|---|---|---|
	// | `INVALID_ARGUMENT` | 400 | `BLUM-400-001` | `INVALID_ARGUMENT` | `INVALID_REQUEST` | no | Invalid request. | Check the message and details for the specific field issues. |
	// | `MISSING_FIELD` | 400 | `BLUM-400-002` | `MISSING_FIELD` | `INVALID_REQUEST` | no | Missing required field. | Include all required fields in the request. |
}

func ExampleCatalog_CheckCompatible() {
	// The catalog as released, e.g. a committed docs/errors.json.
	released, _ := catalog.MustNew("BLUM", catalog.Code{
		Name: "DUPLICATE_ORDER", Status: 409, Metadata: []string{"order_id"},
	}).MarshalJSON()

	// The next version drops the metadata key and makes the code retryable.
	next := catalog.MustNew("BLUM", catalog.Code{Name: "DUPLICATE_ORDER", Status: 409, Retryable: true})
	changes, err := next.CheckCompatible(released)
	fmt.Println(errors.Is(err, catalog.ErrIncompatible))
	for _, ch := range changes {
		fmt.Println(ch.Kind, "-", ch)
	}
	// Output:
	// true
	// retryable changed - DUPLICATE_ORDER: retryable changed from false to true
	// metadata key removed - DUPLICATE_ORDER: metadata key removed: order_id
}
