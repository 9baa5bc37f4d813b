package openapi_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/catalog"
	"github.com/faultline-go/faultline/openapi"
	"github.com/faultline-go/faultline/problem"
)

var envelopes = []string{problem.EnvelopeFlat, problem.EnvelopeGoogle, problem.EnvelopeTracked, problem.EnvelopeProblem,
	problem.EnvelopeGoogleStrict}

// errorDomain is the demo's error domain, which google-strict needs.
const errorDomain = "orders.example.com"

// demoCatalog is the built-in catalog under BLUM with a code of a service's
// own that documents a metadata key.
func demoCatalog(t *testing.T) *catalog.Catalog {
	t.Helper()
	cat, err := catalog.New("BLUM", catalog.Code{Name: "DUPLICATE_ORDER", Status: 409, Metadata: []string{"order_id"},
		Message: "An order with this client_order_id already exists."})
	require.NoError(t, err)
	return cat
}

// routes are the demo's operations with the faultline middleware in front.
func routes() []openapi.Route {
	v1 := []openapi.Middleware{openapi.Recover, openapi.Maintenance, openapi.KeyAuth, openapi.RateLimit}
	return []openapi.Route{
		openapi.Responses("GET", "/v1/accounts/{id}", catalog.NotFound).With(v1...),
		openapi.Responses("POST", "/v1/orders", catalog.MissingField, catalog.FailedPrecondition, "DUPLICATE_ORDER").
			With(v1...).With(openapi.DecodeJSON),
		openapi.Responses("GET", "/v1/reports").With(v1...),
		openapi.Responses("GET", "/v1/slow", catalog.InvalidArgument).With(v1...).With(openapi.Timeout),
		openapi.Responses("GET", "/healthz").With(openapi.RequestID, openapi.Recover),
	}
}

// load generates the document for envelope and loads and validates it.
func load(t *testing.T, envelope, typeBase string) (*openapi.Generator, *openapi3.T) {
	t.Helper()
	g, err := openapi.New(openapi.Config{Problem: problem.Config{Envelope: envelope, Catalog: demoCatalog(t), TypeBaseURI: typeBase,
		ErrorDomain: errorDomain}})
	require.NoError(t, err, "openapi.New(%s) = _, %v", envelope, err)
	raw, err := g.Document(routes()...)
	require.NoError(t, err, "Document() = _, %v", err)
	doc, err := openapi3.NewLoader().LoadFromData(raw)
	require.NoError(t, err, "loading the %s document: %v", envelope, err)
	require.True(t, doc.IsOpenAPI31OrLater(), "document version %q, want 3.1", doc.OpenAPI)
	require.NoError(t, doc.Validate(context.Background()), "Validate() of the %s document", envelope)
	return g, doc
}

// TestDocumentValidates loads every envelope's document with kin-openapi,
// validates it, and validates every example against the envelope's schema.
func TestDocumentValidates(t *testing.T) {
	for _, envelope := range envelopes {
		for _, base := range []string{"", "https://api.example.com/errors"} {
			t.Run(envelope+" "+base, func(t *testing.T) {
				g, doc := load(t, envelope, base)
				schema := doc.Components.Schemas[g.SchemaName()]
				require.NotNil(t, schema, "components.schemas lacks %s", g.SchemaName())
				cat := demoCatalog(t)
				require.Len(t, doc.Components.Examples, cat.Len(), "components.examples, want one per code")
				require.Len(t, doc.Components.Responses, cat.Len(), "components.responses, want one per code")
				for name, ex := range doc.Components.Examples {
					err := schema.Value.VisitJSON(ex.Value.Value, openapi3.EnableJSONSchema2020())
					assert.NoError(t, err, "example %s = %v does not validate against %s", name, ex.Value.Value, g.SchemaName())
				}
			})
		}
	}
}

// TestRealBodiesValidate renders every code with a real renderer, random
// request and exc_ ids included, and validates the bodies against the
// envelope's schema.
func TestRealBodiesValidate(t *testing.T) {
	for _, envelope := range envelopes {
		t.Run(envelope, func(t *testing.T) {
			g, doc := load(t, envelope, "https://api.example.com/errors")
			schema := doc.Components.Schemas[g.SchemaName()].Value
			cat := demoCatalog(t)
			rd := problem.MustRenderer(problem.Config{Envelope: envelope, Catalog: cat, Logger: slog.New(slog.DiscardHandler),
				ErrorDomain: errorDomain, TypeBaseURI: "https://api.example.com/errors", DocLinks: true})
			errs := []error{
				problem.MissingField("symbol"),
				problem.Validation(problem.Violation{Field: "a", Reason: catalog.MissingField}, problem.Violation{Field: "b", Reason: catalog.InvalidArgument}),
				problem.New("DUPLICATE_ORDER", "").WithMeta("order_id", "ord_1"),
				problem.New(catalog.ResourceExhausted, "").WithMeta("policy", "reports"),
				problem.New(catalog.ResourceExhausted, "").WithRetryAfter(1500 * time.Millisecond),
				problem.New(catalog.Unavailable, "").WithRetryAfter(time.Minute),
				businessRule(),
				problem.Internal(assert.AnError),
				assert.AnError,
			}
			for _, code := range cat.Codes() {
				errs = append(errs, problem.New(code.Name, ""))
			}
			for _, err := range errs {
				_, _, body := rd.Render(httptest.NewRequest("GET", "/v1/accounts/a%20b", nil), err)
				var v any
				require.NoError(t, json.Unmarshal(body, &v))
				assert.NoError(t, schema.VisitJSON(v, openapi3.EnableJSONSchema2020()), "%s body %s does not validate against %s", envelope, body, g.SchemaName())
			}
		})
	}
}

// businessRule is a 422 with a violation: google-strict sends it as a
// PreconditionFailure.
func businessRule() error {
	e := problem.New(catalog.FailedPrecondition, "Not enough funds.")
	e.Violations = []problem.Violation{{Field: "quantity", Reason: "INSUFFICIENT_FUNDS", Description: "Exceeds the balance."}}
	return e
}

// TestSchemaRejects makes sure the validation above can fail: bodies that
// break each envelope's shape are rejected.
func TestSchemaRejects(t *testing.T) {
	bad := map[string][]string{
		problem.EnvelopeFlat: {
			`{"code":"BLUM-404-001"}`,
			`{"code":404,"message":"x"}`,
			`{"code":"not a flat code","message":"x"}`,
			`{"code":"BLUM-404-001","message":"x","extra":1}`,
		},
		problem.EnvelopeGoogle: {
			`{"error":{"code":404,"status":"NOT_FOUND","message":"x"}}`,
			`{"error":{"code":404,"status":"NOT_FOUND","message":"x","details":{}}}`,
			`{"error":{"code":200,"status":"OK","message":"x","details":[]}}`,
			`{"error":{"code":404,"status":"NOT_FOUND","message":"x","details":[{"metadata":{}}]}}`,
		},
		problem.EnvelopeTracked: {
			`{"error":{"code":"NOT_FOUND","message":"x","details":[],"request_id":"r","timestamp":"2026-01-02T03:04:05Z"}}`,
			`{"error":{"code":"NOT_FOUND","message":"x","details":{},"timestamp":"2026-01-02T03:04:05Z"}}`,
			`{"error":{"code":"INTERNAL_ERROR","message":"x","details":{"exc_id":"exc_short"},"request_id":"r","timestamp":"2026-01-02T03:04:05Z"}}`,
		},
		problem.EnvelopeProblem: {
			`{"type":"about:blank","title":"Not Found","status":404,"detail":"x","instance":"/x","code":"NOT_FOUND","request_id":"r"}`,
			`{"type":"about:blank","title":"Not Found","status":404,"detail":"x","instance":"/x","code":"NOT_FOUND","request_id":"r","errors":null}`,
			`{"type":"about:blank","title":"Not Found","status":"404","detail":"x","instance":"/x","code":"NOT_FOUND","request_id":"r","errors":[]}`,
			`{"type":"about:blank","title":"Not Found","status":404,"detail":"x","instance":"/x","code":"NOT_FOUND","request_id":"r","errors":[{"field":"a"}]}`,
		},
	}
	const info = `{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"NOT_FOUND","domain":"orders.example.com"}`
	bad[problem.EnvelopeGoogleStrict] = []string{
		// the envelope itself
		`{"error":{"code":404,"message":"x","status":"NOT_FOUND"}}`,
		`{"error":{"code":404,"message":"x","status":"NOT_FOUND","details":[]}}`,
		`{"error":{"code":"404","message":"x","status":"NOT_FOUND","details":[` + info + `]}}`,
		`{"error":{"code":404,"message":"x","status":"Not Found","details":[` + info + `]}}`,
		`{"error":{"code":404,"message":"x","status":"MISSING_FIELD","details":[` + info + `]}}`,
		`{"error":{"code":404,"message":"x","status":"NOT_FOUND","details":[` + info + `],"extra":1}}`,
		// ErrorInfo missing, not first, or incomplete
		`{"error":{"code":404,"message":"x","status":"NOT_FOUND","details":[{"@type":"type.googleapis.com/google.rpc.RequestInfo","requestId":"r"}]}}`,
		`{"error":{"code":404,"message":"x","status":"NOT_FOUND","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"NOT_FOUND"}]}}`,
		`{"error":{"code":500,"message":"x","status":"INTERNAL","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"INTERNAL","domain":"d","metadata":{"exc_id":"exc_short"}}]}}`,
		`{"error":{"code":404,"message":"x","status":"NOT_FOUND","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"NOT_FOUND","domain":"d","metadata":{"n":1}}]}}`,
		// the typed details after it
		`{"error":{"code":404,"message":"x","status":"NOT_FOUND","details":[` + info + `,{"reason":"NOT_FOUND"}]}}`,
		`{"error":{"code":404,"message":"x","status":"NOT_FOUND","details":[` + info + `,{"@type":"type.googleapis.com/google.rpc.LocalizedMessage","locale":"en","message":"x"}]}}`,
		`{"error":{"code":400,"message":"x","status":"INVALID_ARGUMENT","details":[` + info + `,{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"field":"a"}]}]}}`,
		`{"error":{"code":400,"message":"x","status":"INVALID_ARGUMENT","details":[` + info + `,{"@type":"type.googleapis.com/google.rpc.BadRequest","violations":[{"field":"a","description":"d","reason":"r"}]}]}}`,
		`{"error":{"code":422,"message":"x","status":"FAILED_PRECONDITION","details":[` + info + `,{"@type":"type.googleapis.com/google.rpc.PreconditionFailure","violations":[{"field":"a","description":"d","reason":"r"}]}]}}`,
		`{"error":{"code":429,"message":"x","status":"RESOURCE_EXHAUSTED","details":[` + info + `,{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":2}]}}`,
		`{"error":{"code":429,"message":"x","status":"RESOURCE_EXHAUSTED","details":[` + info + `,{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"1.5s"}]}}`,
		`{"error":{"code":404,"message":"x","status":"NOT_FOUND","details":[` + info + `,{"@type":"type.googleapis.com/google.rpc.RequestInfo","request_id":"r"}]}}`,
		`{"error":{"code":404,"message":"x","status":"NOT_FOUND","details":[` + info + `,{"@type":"type.googleapis.com/google.rpc.Help","links":[{"url":"https://x"}]}]}}`,
	}
	// Each body above breaks one rule; these, which break none, pass.
	good := []string{
		`{"error":{"code":404,"message":"x","status":"NOT_FOUND","details":[` + info + `]}}`,
		`{"error":{"code":422,"message":"x","status":"FAILED_PRECONDITION","details":[` + info + `,{"@type":"type.googleapis.com/google.rpc.PreconditionFailure","violations":[{"type":"r","subject":"a","description":"d"}]},{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"1.500s"},{"@type":"type.googleapis.com/google.rpc.Help","links":[{"description":"d","url":"https://x"}]}]}}`,
	}
	g, doc := load(t, problem.EnvelopeGoogleStrict, "")
	strict := doc.Components.Schemas[g.SchemaName()].Value
	for _, body := range good {
		var v any
		require.NoError(t, json.Unmarshal([]byte(body), &v))
		assert.NoError(t, strict.VisitJSON(v, openapi3.EnableJSONSchema2020()), "google-strict schema rejects %s", body)
	}
	for envelope, bodies := range bad {
		g, doc := load(t, envelope, "")
		schema := doc.Components.Schemas[g.SchemaName()].Value
		for _, body := range bodies {
			var v any
			require.NoError(t, json.Unmarshal([]byte(body), &v))
			assert.Error(t, schema.VisitJSON(v, openapi3.EnableJSONSchema2020()), "%s schema accepts %s, want an error", envelope, body)
		}
	}
}

// TestRouteResponses checks the responses of each demo route: a status per
// code class, each referring to the code's response or listing its codes.
func TestRouteResponses(t *testing.T) {
	_, doc := load(t, problem.EnvelopeProblem, "")
	tests := []struct {
		method, path string
		want         map[string][]string // status -> codes with an example there
	}{
		{"GET", "/v1/accounts/{id}", map[string][]string{
			"401": {catalog.MissingAuthorization, catalog.MalformedCredentials, catalog.InvalidCredentials},
			"404": {catalog.NotFound}, "429": {catalog.ResourceExhausted}, "500": {catalog.Internal}, "503": {catalog.Unavailable},
		}},
		{"POST", "/v1/orders", map[string][]string{
			"400": {catalog.MissingField, catalog.InvalidArgument, catalog.InvalidFormat},
			"401": {catalog.MissingAuthorization, catalog.MalformedCredentials, catalog.InvalidCredentials},
			"408": {catalog.RequestTimeout}, "409": {"DUPLICATE_ORDER"}, "413": {catalog.PayloadTooLarge}, "415": {catalog.UnsupportedMediaType},
			"422": {catalog.FailedPrecondition}, "429": {catalog.ResourceExhausted}, "500": {catalog.Internal}, "503": {catalog.Unavailable},
		}},
		{"GET", "/v1/slow", map[string][]string{
			"400": {catalog.InvalidArgument},
			"401": {catalog.MissingAuthorization, catalog.MalformedCredentials, catalog.InvalidCredentials},
			"429": {catalog.ResourceExhausted}, "500": {catalog.Internal}, "503": {catalog.Unavailable}, "504": {catalog.DeadlineExceeded},
		}},
		{"GET", "/healthz", map[string][]string{"500": {catalog.Internal}}},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			op := doc.Paths.Find(tt.path).GetOperation(tt.method)
			require.NotNil(t, op, "document lacks %s %s", tt.method, tt.path)
			got := map[string][]string{}
			for status, resp := range op.Responses.Map() {
				content := resp.Value.Content.Get(problem.ContentTypeProblem)
				require.NotNil(t, content, "%s %s %s has no %s content", tt.method, tt.path, status, problem.ContentTypeProblem)
				for name := range content.Examples {
					got[status] = append(got[status], name)
				}
			}
			for status := range tt.want {
				assert.ElementsMatch(t, tt.want[status], got[status], "%s %s %s examples = %v, want %v", tt.method, tt.path, status, got[status], tt.want[status])
			}
			assert.Len(t, got, len(tt.want), "%s %s statuses = %v, want those of %v", tt.method, tt.path, got, tt.want)
		})
	}
	t.Run("retry and auth headers", func(t *testing.T) {
		op := doc.Paths.Find("/v1/accounts/{id}").GetOperation("GET")
		assert.Contains(t, op.Responses.Value("429").Value.Headers, "Retry-After", "429 headers")
		assert.Contains(t, op.Responses.Value("401").Value.Headers, "WWW-Authenticate", "401 headers")
		assert.Contains(t, op.Responses.Value("404").Value.Headers, "X-Request-Id", "404 headers")
	})
}
