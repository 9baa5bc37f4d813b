package problem_test

import (
	"errors"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/catalog"
	"github.com/faultline-go/faultline/problem"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// goldenExcID replaces the random exc_ ids before bodies are compared.
const goldenExcID = "exc_00000000000000000000000000"

// goldenCases are the errors every envelope is checked against byte for
// byte, with the status and headers each must produce.
var goldenCases = []struct {
	name       string
	method     string
	err        func() error
	wantStatus int
	wantHeader map[string]string
}{
	{
		name:       "not_found",
		err:        func() error { return problem.New(catalog.NotFound, "Order ord_42 not found.") },
		wantStatus: http.StatusNotFound,
	},
	{
		name:       "missing_field",
		err:        func() error { return problem.MissingField("symbol") },
		wantStatus: http.StatusBadRequest,
	},
	{
		name:       "invalid_argument",
		err:        func() error { return problem.Invalid("quantity", "Invalid quantity. Must be a positive number.") },
		wantStatus: http.StatusBadRequest,
	},
	{
		name: "validation",
		err: func() error {
			return problem.Validation(
				problem.Violation{Field: "symbol", Reason: catalog.MissingField, Description: "Missing required field: symbol."},
				problem.Violation{Field: "quantity", Reason: catalog.InvalidArgument, Description: "Invalid quantity. Must be a positive number."},
			)
		},
		wantStatus: http.StatusBadRequest,
	},
	{
		name: "rate_limited",
		err: func() error {
			return problem.New(catalog.ResourceExhausted, "").WithMeta("policy", "sandbox").WithRetryAfter(1500 * time.Millisecond)
		},
		wantStatus: http.StatusTooManyRequests,
		wantHeader: map[string]string{"Retry-After": "2"},
	},
	{
		name: "internal",
		err: func() error {
			return errors.New("db: dial tcp 10.0.0.7:5432: auth failed for dsn user=app password=hunter2")
		},
		wantStatus: http.StatusInternalServerError,
	},
	{
		name:       "method_not_allowed",
		method:     http.MethodDelete,
		err:        func() error { return problem.New(catalog.MethodNotAllowed, "").WithHeader("Allow", "GET, POST") },
		wantStatus: http.StatusMethodNotAllowed,
		wantHeader: map[string]string{"Allow": "GET, POST"},
	},
}

// TestGolden renders each golden case in each envelope and compares the
// body with testdata/golden/<envelope>_<case>.json. Run with -update to
// rewrite the files after an intended change, and review the diff.
func TestGolden(t *testing.T) {
	for _, env := range envelopes {
		rd, _ := envRenderer(t, env)
		for _, tc := range goldenCases {
			t.Run(env+"/"+tc.name, func(t *testing.T) {
				method := tc.method
				if method == "" {
					method = http.MethodGet
				}
				rec := serveThroughRequestID(rd, httptest.NewRequest(method, "/v1/orders/ord_42", nil), tc.err())

				require.Equal(t, tc.wantStatus, rec.Code, "Write(%s) status; body %s", tc.name, rec.Body)
				assert.Equal(t, rd.Envelope().ContentType(), rec.Header().Get("Content-Type"), "Write(%s) Content-Type", tc.name)
				assert.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"), "Write(%s) X-Content-Type-Options", tc.name)
				assert.Equal(t, testRequestID, rec.Header().Get(problem.HeaderRequestID), "Write(%s) X-Request-Id", tc.name)
				for k, v := range tc.wantHeader {
					assert.Equal(t, v, rec.Header().Get(k), "Write(%s) header %s", tc.name, k)
				}

				got := excIDPattern.ReplaceAll(rec.Body.Bytes(), []byte(goldenExcID))
				got = append(got, '\n')
				path := filepath.Join("testdata", "golden", env+"_"+tc.name+".json")
				if *update {
					require.NoError(t, os.WriteFile(path, got, 0o644))
				}
				want, err := os.ReadFile(path)
				require.NoError(t, err, "golden file missing; run go test ./problem -run TestGolden -update")
				assert.Equal(t, string(want), string(got), "Write(%s) body differs from %s (run with -update to rewrite)", tc.name, path)
			})
		}
	}
}
