package standards

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/catalog"
	"github.com/faultline-go/faultline/problem"
)

// TestRendererProblemBodiesMatchRFC9457 validates, in process, the problem
// bodies of configurations the demo does not run: a type base URI (types
// that are https URIs and code titles) and every kind of error the
// renderer classifies.
func TestRendererProblemBodiesMatchRFC9457(t *testing.T) {
	rfc, strict := problemSchemas(t)
	errs := []error{
		problem.New(catalog.NotFound, "Order ord_42 not found."),
		problem.MissingField("symbol"),
		problem.Validation(problem.Violation{Field: "a", Reason: catalog.MissingField}, problem.Violation{Field: "b.c", Reason: "TOO_BIG"}),
		problem.New(catalog.ResourceExhausted, "").WithPolicies("sandbox", "reports").WithMeta("policy", "reports").WithRetryAfter(time.Second),
		problem.New(catalog.ResourceExhausted, ""),
		problem.New(catalog.MethodNotAllowed, "").WithHeader("Allow", "GET"),
		problem.New("NO_SUCH_CODE", "misspelled"),
		errors.New("db: password=hunter2"),
		fmt.Errorf("query: %w", context.DeadlineExceeded),
		&http.MaxBytesError{Limit: 10},
		problem.New(catalog.Conflict, "").WithMeta("order_id", "ord_1"),
	}
	for _, base := range []string{"", "https://errors.example.com/v1", "urn:example:problems"} {
		rd, err := problem.NewRenderer(problem.Config{TypeBaseURI: base, Logger: slog.New(slog.DiscardHandler)})
		require.NoError(t, err)
		for _, e := range errs {
			for _, target := range []string{"/v1/orders", "/v1/a%2Fb%C3%A9", "/v1/a%25b?x=1"} {
				rec := httptest.NewRecorder()
				rd.Write(rec, httptest.NewRequest(http.MethodGet, target, nil), e)
				where := fmt.Sprintf("TypeBaseURI %q, %s, %v", base, target, e)
				checkProblem(t, rfc, strict, where, rec.Result(), rec.Body.Bytes())
			}
		}
	}
}
