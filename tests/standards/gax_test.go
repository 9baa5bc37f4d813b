package standards

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/googleapis/gax-go/v2/apierror"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/api/googleapi"
	"google.golang.org/grpc/codes"
)

const domain = "orders.example.com"

// parseGoogle turns a demo response into the error a Google client
// library sees: googleapi.CheckResponse makes the *googleapi.Error the
// generated HTTP clients return, apierror.FromError parses its body.
func parseGoogle(t *testing.T, resp *http.Response, body []byte) *apierror.APIError {
	t.Helper()
	assert.Equal(t, "application/json; charset=utf-8", resp.Header.Get("Content-Type"), "Content-Type")
	resp.Body = io.NopCloser(bytes.NewReader(body))
	err := googleapi.CheckResponse(resp)
	require.Error(t, err, "CheckResponse(%d)", resp.StatusCode)
	ae, ok := apierror.FromError(err)
	require.True(t, ok, "apierror.FromError(%v) = false", err)
	require.NotNil(t, ae.Details().ErrorInfo, "no ErrorInfo parsed from %s", body)
	assert.Equal(t, domain, ae.Domain(), "Domain() of %s", body)
	assert.Empty(t, ae.Details().Unknown, "details apierror could not type, in %s", body)
	return ae
}

// TestGaxParsesGoogleStrict checks that Google's own client library reads
// everything the google-strict envelope of the demo sends.
func TestGaxParsesGoogleStrict(t *testing.T) {
	env := []string{"FAULTLINE_ERROR_DOMAIN=" + domain}
	d := startDemo(t, env, "-envelope", "google-strict", "-rate", "1000")

	t.Run("validation 400", func(t *testing.T) {
		resp, body := d.do(t, request{method: "POST", path: "/v1/orders", body: `{"quantity":-1}`, auth: true})
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, "body %s", body)
		ae := parseGoogle(t, resp, body)
		assert.Equal(t, codes.InvalidArgument, ae.GRPCStatus().Code(), "GRPCStatus().Code()")
		assert.Equal(t, "INVALID_ARGUMENT", ae.Reason(), "Reason()")
		require.NotNil(t, ae.Details().BadRequest, "BadRequest() of %s", body)
		var got [][3]string
		for _, v := range ae.Details().BadRequest.GetFieldViolations() {
			got = append(got, [3]string{v.GetField(), v.GetReason(), v.GetDescription()})
		}
		assert.Equal(t, [][3]string{
			{"symbol", "MISSING_FIELD", "Missing required field: symbol."},
			{"quantity", "INVALID_ARGUMENT", "Invalid quantity. Must be a positive number."},
		}, got, "BadRequest field violations (field, reason, description)")
		assert.Equal(t, "Request validation failed for fields: symbol, quantity.", ae.Message(), "Message()")
	})
	t.Run("422", func(t *testing.T) {
		resp, body := d.do(t, request{method: "POST", path: "/v1/orders", body: `{"symbol":"AAPL","quantity":1000001}`, auth: true})
		require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode, "body %s", body)
		ae := parseGoogle(t, resp, body)
		assert.Equal(t, codes.FailedPrecondition, ae.GRPCStatus().Code(), "GRPCStatus().Code()")
		assert.Equal(t, "FAILED_PRECONDITION", ae.Reason(), "Reason()")
		require.NotNil(t, ae.Details().PreconditionFailure, "PreconditionFailure of %s", body)
		v := ae.Details().PreconditionFailure.GetViolations()
		require.Len(t, v, 1, "PreconditionFailure violations")
		assert.Equal(t, [3]string{"FAILED_PRECONDITION", "quantity", "Quantity must not exceed 1000000."},
			[3]string{v[0].GetType(), v[0].GetSubject(), v[0].GetDescription()}, "violation (type, subject, description)")
	})
	t.Run("404", func(t *testing.T) {
		resp, body := d.do(t, request{method: "GET", path: "/v1/accounts/acc_2", auth: true})
		require.Equal(t, http.StatusNotFound, resp.StatusCode, "body %s", body)
		ae := parseGoogle(t, resp, body)
		assert.Equal(t, codes.NotFound, ae.GRPCStatus().Code(), "GRPCStatus().Code()")
		assert.Equal(t, "NOT_FOUND", ae.Reason(), "Reason()")
		assert.Equal(t, http.StatusNotFound, ae.HTTPCode(), "HTTPCode()")
		assert.Equal(t, resp.Header.Get("X-Request-Id"), ae.Details().RequestInfo.GetRequestId(), "RequestInfo request id")
	})
	t.Run("409 metadata", func(t *testing.T) {
		order := `{"symbol":"AAPL","quantity":1,"client_order_id":"gax-dup"}`
		first, body := d.do(t, request{method: "POST", path: "/v1/orders", body: order, auth: true})
		require.Equal(t, http.StatusCreated, first.StatusCode, "first order: %s", body)
		resp, body := d.do(t, request{method: "POST", path: "/v1/orders", body: order, auth: true})
		require.Equal(t, http.StatusConflict, resp.StatusCode, "body %s", body)
		ae := parseGoogle(t, resp, body)
		assert.Equal(t, "DUPLICATE_ORDER", ae.Reason(), "Reason()")
		assert.NotEmpty(t, ae.Metadata()["order_id"], "Metadata()[order_id] of %s", body)
	})
	t.Run("429", func(t *testing.T) {
		var resp *http.Response
		var body []byte
		for range 3 { // the reports policy holds two requests per second
			resp, body = d.do(t, request{method: "GET", path: "/v1/reports", auth: true})
		}
		require.Equal(t, http.StatusTooManyRequests, resp.StatusCode, "third GET /v1/reports: %s", body)
		ae := parseGoogle(t, resp, body)
		assert.Equal(t, codes.ResourceExhausted, ae.GRPCStatus().Code(), "GRPCStatus().Code()")
		assert.Equal(t, "RESOURCE_EXHAUSTED", ae.Reason(), "Reason()")
		assert.Equal(t, map[string]string{"policy": "reports"}, ae.Metadata(), "Metadata()")
		checkRetryDelay(t, ae, resp)
	})
	t.Run("500", func(t *testing.T) {
		resp, body := d.do(t, request{method: "GET", path: "/v1/fail", auth: true})
		require.Equal(t, http.StatusInternalServerError, resp.StatusCode, "body %s", body)
		ae := parseGoogle(t, resp, body)
		assert.Equal(t, codes.Internal, ae.GRPCStatus().Code(), "GRPCStatus().Code()")
		assert.Equal(t, "INTERNAL", ae.Reason(), "Reason()")
		assert.Regexp(t, `^exc_[0-9a-z]{26}$`, ae.Metadata()["exc_id"], "Metadata()[exc_id]")
	})
	t.Run("503", func(t *testing.T) {
		m := startDemo(t, env, "-envelope", "google-strict", "-maintenance")
		resp, body := m.do(t, request{method: "GET", path: "/v1/accounts/acc_1", auth: true})
		require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "body %s", body)
		ae := parseGoogle(t, resp, body)
		assert.Equal(t, codes.Unavailable, ae.GRPCStatus().Code(), "GRPCStatus().Code()")
		assert.Equal(t, "UNAVAILABLE", ae.Reason(), "Reason()")
		checkRetryDelay(t, ae, resp)
	})
}

// checkRetryDelay checks that RetryInfo came through and says what the
// Retry-After header says.
func checkRetryDelay(t *testing.T, ae *apierror.APIError, resp *http.Response) {
	t.Helper()
	require.NotNil(t, ae.Details().RetryInfo, "RetryInfo missing")
	got := ae.Details().RetryInfo.GetRetryDelay().AsDuration()
	secs, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	require.NoError(t, err, "Retry-After %q", resp.Header.Get("Retry-After"))
	assert.Positive(t, got, "RetryInfo.GetRetryDelay()")
	assert.LessOrEqual(t, got, time.Duration(secs)*time.Second, "RetryInfo.GetRetryDelay() = %v, Retry-After %ds", got, secs)
	assert.Greater(t, got, time.Duration(secs-1)*time.Second, "RetryInfo.GetRetryDelay() = %v, Retry-After %ds", got, secs)
}

// TestGaxRejectsTheBlooBankShape shows why google-strict exists: the
// default google envelope's status is the catalog's google name, which a
// protobuf parser rejects, so apierror finds none of its details.
func TestGaxRejectsTheBlooBankShape(t *testing.T) {
	d := startDemo(t, nil, "-envelope", "google", "-rate", "1000")
	resp, body := d.do(t, request{method: "POST", path: "/v1/orders", body: `{"quantity":5}`, auth: true})
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, "body %s", body)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	ae, ok := apierror.FromError(googleapi.CheckResponse(resp))
	require.True(t, ok)
	assert.Nil(t, ae.Details().ErrorInfo, "ErrorInfo parsed from the BlooBank shape %s", body)
	assert.Empty(t, ae.Reason(), "Reason() of the BlooBank shape")
}

// TestGaxReadsDocLinks checks that the google.rpc.Help link DocLinks adds
// comes through the client library, beside the Link header.
func TestGaxReadsDocLinks(t *testing.T) {
	const base = "https://errors.example.com/v1"
	env := []string{"FAULTLINE_ERROR_DOMAIN=" + domain, "FAULTLINE_TYPE_BASE_URI=" + base, "FAULTLINE_DOC_LINKS=true"}
	d := startDemo(t, env, "-envelope", "google-strict")
	resp, body := d.do(t, request{method: "GET", path: "/v1/accounts/acc_2", auth: true})
	require.Equal(t, http.StatusNotFound, resp.StatusCode, "body %s", body)
	assert.Equal(t, "<"+base+`/not-found>; rel="help"`, resp.Header.Get("Link"), "Link header")
	ae := parseGoogle(t, resp, body)
	require.NotNil(t, ae.Details().Help, "Help missing from %s", body)
	links := ae.Details().Help.GetLinks()
	require.Len(t, links, 1, "Help links")
	assert.Equal(t, base+"/not-found", links[0].GetUrl(), "Help link url")
	assert.NotEmpty(t, links[0].GetDescription(), "Help link description")
}
