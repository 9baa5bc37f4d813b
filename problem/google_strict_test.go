package problem_test

import (
	"errors"
	"log/slog"
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

const testDomain = "orders.example.com"

func strictRenderer(t testing.TB) *problem.Renderer {
	t.Helper()
	rd, _ := newRenderer(t, problem.Config{Envelope: problem.EnvelopeGoogleStrict, ErrorDomain: testDomain}, slog.LevelInfo)
	return rd
}

func TestGRPCCodeName(t *testing.T) {
	tests := []struct {
		status int
		want   string
	}{
		{400, "INVALID_ARGUMENT"},
		{401, "UNAUTHENTICATED"},
		{403, "PERMISSION_DENIED"},
		{404, "NOT_FOUND"},
		{405, "FAILED_PRECONDITION"},
		{409, "ABORTED"},
		{413, "FAILED_PRECONDITION"},
		{416, "OUT_OF_RANGE"},
		{422, "FAILED_PRECONDITION"},
		{429, "RESOURCE_EXHAUSTED"},
		{499, "CANCELLED"},
		{500, "INTERNAL"},
		{501, "UNIMPLEMENTED"},
		{502, "INTERNAL"},
		{503, "UNAVAILABLE"},
		{504, "DEADLINE_EXCEEDED"},
		{599, "INTERNAL"},
		{302, "UNKNOWN"},
		{0, "UNKNOWN"},
	}
	for _, tc := range tests {
		if got := problem.GRPCCodeName(tc.status); got != tc.want {
			t.Errorf("GRPCCodeName(%d) = %q, want %q", tc.status, got, tc.want)
		}
	}
}

// TestGoogleStrictGolden renders the golden cases in the google-strict
// envelope and compares them with testdata/golden/google-strict_<case>.json
// (-update rewrites them).
func TestGoogleStrictGolden(t *testing.T) {
	rd := strictRenderer(t)
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = http.MethodGet
			}
			rec := serveThroughRequestID(rd, httptest.NewRequest(method, "/v1/orders/ord_42", nil), tc.err())
			require.Equal(t, tc.wantStatus, rec.Code, "Write(%s) status; body %s", tc.name, rec.Body)
			assert.Equal(t, problem.ContentTypeJSON, rec.Header().Get("Content-Type"), "Write(%s) Content-Type", tc.name)
			for k, v := range tc.wantHeader {
				assert.Equal(t, v, rec.Header().Get(k), "Write(%s) header %s", tc.name, k)
			}
			got := append(excIDPattern.ReplaceAll(rec.Body.Bytes(), []byte(goldenExcID)), '\n')
			path := filepath.Join("testdata", "golden", problem.EnvelopeGoogleStrict+"_"+tc.name+".json")
			if *update {
				require.NoError(t, os.WriteFile(path, got, 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "golden file missing; run go test ./problem -run TestGoogleStrictGolden -update")
			assert.Equal(t, string(want), string(got), "Write(%s) body differs from %s", tc.name, path)
		})
	}
}

func TestGoogleStrictEnvelope(t *testing.T) {
	rd := strictRenderer(t)
	details := func(t *testing.T, err error) (map[string]any, map[string]map[string]any) {
		t.Helper()
		e := object(t, decodeObject(t, write(rd, "/v1/x", err).Body.Bytes()), "error")
		byType := map[string]map[string]any{}
		for _, d := range array(t, e, "details") {
			m, ok := d.(map[string]any)
			require.True(t, ok, "detail %#v is not an object", d)
			typ, _ := m["@type"].(string)
			require.NotContains(t, byType, typ, "two details of type %s", typ)
			byType[typ] = m
		}
		return e, byType
	}
	const info = "type.googleapis.com/google.rpc.ErrorInfo"

	t.Run("status is the gRPC code of the HTTP status", func(t *testing.T) {
		e, d := details(t, problem.MissingField("symbol"))
		assert.Equal(t, float64(400), e["code"], "error.code")
		assert.Equal(t, "INVALID_ARGUMENT", e["status"], "error.status of MISSING_FIELD")
		assert.Equal(t, "MISSING_FIELD", d[info]["reason"], "ErrorInfo.reason is the catalog code")
		assert.Equal(t, testDomain, d[info]["domain"], "ErrorInfo.domain")
		assert.Equal(t, []any{map[string]any{"field": "symbol", "reason": "MISSING_FIELD",
			"description": "Missing required field: symbol."}},
			d["type.googleapis.com/google.rpc.BadRequest"]["fieldViolations"], "BadRequest.fieldViolations")
	})
	t.Run("business rule", func(t *testing.T) {
		err := &problem.Error{Code: catalog.FailedPrecondition, Violations: []problem.Violation{
			{Field: "quantity", Reason: catalog.FailedPrecondition, Description: "Quantity must not exceed 1000000."}}}
		e, d := details(t, err)
		assert.Equal(t, "FAILED_PRECONDITION", e["status"], "error.status of a 422")
		assert.NotContains(t, d, "type.googleapis.com/google.rpc.BadRequest", "BadRequest of a 422")
		assert.Equal(t, []any{map[string]any{"type": "FAILED_PRECONDITION", "subject": "quantity",
			"description": "Quantity must not exceed 1000000."}},
			d["type.googleapis.com/google.rpc.PreconditionFailure"]["violations"], "PreconditionFailure.violations")
	})
	t.Run("metadata", func(t *testing.T) {
		_, d := details(t, problem.New(catalog.Conflict, "").WithMeta("order_id", "ord_1"))
		assert.Equal(t, map[string]any{"order_id": "ord_1"}, d[info]["metadata"], "ErrorInfo.metadata")
	})
	t.Run("retry delay", func(t *testing.T) {
		for _, tc := range []struct {
			after time.Duration
			want  string
		}{{2 * time.Second, "2s"}, {1500 * time.Millisecond, "1.500s"}, {time.Nanosecond, "0.000000001s"}} {
			e, d := details(t, problem.New(catalog.Unavailable, "").WithRetryAfter(tc.after))
			assert.Equal(t, "UNAVAILABLE", e["status"], "error.status")
			assert.Equal(t, tc.want, d["type.googleapis.com/google.rpc.RetryInfo"]["retryDelay"], "RetryInfo.retryDelay for %v", tc.after)
		}
		_, d := details(t, notFound())
		assert.NotContains(t, d, "type.googleapis.com/google.rpc.RetryInfo", "RetryInfo without a retry delay")
	})
	t.Run("sanitized 500", func(t *testing.T) {
		e, d := details(t, errors.New("password=hunter2"))
		assert.Equal(t, "INTERNAL", e["status"], "error.status")
		assert.Equal(t, "An internal error has occurred.", e["message"], "error.message")
		assert.Equal(t, "INTERNAL", d[info]["reason"], "ErrorInfo.reason")
		md, _ := d[info]["metadata"].(map[string]any)
		assert.Regexp(t, excIDPattern, md["exc_id"], "ErrorInfo.metadata.exc_id")
	})
	t.Run("request id", func(t *testing.T) {
		rec := serveThroughRequestID(rd, httptest.NewRequest(http.MethodGet, "/x", nil), notFound())
		assert.Contains(t, rec.Body.String(),
			`{"@type":"type.googleapis.com/google.rpc.RequestInfo","requestId":"`+testRequestID+`"}`, "RequestInfo")
	})
	t.Run("only google.rpc.Status members", func(t *testing.T) {
		body := decodeObject(t, write(rd, "/x", problem.New(catalog.ResourceExhausted, "").WithMeta("policy", "p")).Body.Bytes())
		assert.ElementsMatch(t, []string{"error"}, keys(body), "top-level members")
		assert.ElementsMatch(t, []string{"code", "message", "status", "details"}, keys(object(t, body, "error")), "error members")
	})
}

func TestGoogleStrictNeedsDomain(t *testing.T) {
	tests := []struct {
		name string
		cfg  problem.Config
	}{
		{"no domain", problem.Config{Envelope: problem.EnvelopeGoogleStrict}},
		{"space", problem.Config{Envelope: problem.EnvelopeGoogleStrict, ErrorDomain: "orders example"}},
		{"control", problem.Config{Envelope: problem.EnvelopeGoogle, ErrorDomain: "orders\n"}},
		{"too long", problem.Config{Envelope: problem.EnvelopeGoogleStrict, ErrorDomain: string(make([]byte, 256))}},
	}
	for _, tc := range tests {
		_, err := problem.NewRenderer(tc.cfg)
		assert.ErrorIs(t, err, problem.ErrInvalidConfig, "%s: NewRenderer(ErrorDomain %q)", tc.name, tc.cfg.ErrorDomain)
	}
	env := map[string]string{problem.EnvErrorDomain: "orders example"}
	_, err := problem.ConfigFromEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	assert.ErrorIs(t, err, problem.ErrInvalidConfig, "ConfigFromEnv(%s=%q)", problem.EnvErrorDomain, env[problem.EnvErrorDomain])
	env = map[string]string{problem.EnvEnvelope: problem.EnvelopeGoogleStrict, problem.EnvErrorDomain: testDomain}
	cfg, err := problem.ConfigFromEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	require.NoError(t, err, "ConfigFromEnv(google-strict, %s)", testDomain)
	assert.Equal(t, testDomain, cfg.ErrorDomain, "ConfigFromEnv ErrorDomain")
	_, err = problem.NewRenderer(cfg)
	assert.NoError(t, err, "NewRenderer(ConfigFromEnv(...))")
}
