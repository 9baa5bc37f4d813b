package sample_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/catalog"
	"github.com/faultline-go/faultline/internal/sample"
	"github.com/faultline-go/faultline/problem"
)

func TestBody(t *testing.T) {
	cat := catalog.MustNew("BLUM")
	for _, env := range sample.Envelopes() {
		rd, err := sample.NewRenderer(problem.Config{Catalog: cat}, env)
		require.NoError(t, err, "NewRenderer(%s) = _, %v", env, err)
		for _, code := range cat.Codes() {
			status, ct, body := sample.Body(rd, code)
			_, _, again := sample.Body(rd, code)
			assert.Equal(t, code.Status, status, "Body(%s, %s) status = %d, want %d", env, code.Name, status, code.Status)
			assert.Equal(t, rd.Envelope().ContentType(), ct, "Body(%s, %s) content type", env, code.Name)
			assert.True(t, json.Valid(body), "Body(%s, %s) = %s, want JSON", env, code.Name, body)
			assert.Equal(t, string(body), string(again), "Body(%s, %s) differs between two calls", env, code.Name)
		}
	}
}

func TestBodyFixedValues(t *testing.T) {
	rd, err := sample.NewRenderer(problem.Config{}, problem.EnvelopeTracked)
	require.NoError(t, err)
	code, _ := catalog.MustNew("").Lookup(catalog.Internal)
	_, _, body := sample.Body(rd, code)
	var got struct {
		Error struct {
			Details struct {
				ExcID string `json:"exc_id"`
			}
			RequestID string `json:"request_id"`
			Timestamp string
		}
	}
	require.NoError(t, json.Unmarshal(body, &got))
	assert.Equal(t, sample.ExcID, got.Error.Details.ExcID, "tracked INTERNAL exc_id")
	assert.Equal(t, sample.RequestID, got.Error.RequestID, "tracked INTERNAL request_id")
	assert.Equal(t, "2026-01-02T03:04:05.000Z", got.Error.Timestamp, "tracked INTERNAL timestamp")
}

func TestError(t *testing.T) {
	cat := catalog.MustNew("BLUM", catalog.Code{Name: "WITH_KEYS", Status: 409, Metadata: []string{"policy", "order_id"}})
	tests := []struct {
		name   string
		fields []string
		meta   map[string]string
		retry  time.Duration
	}{
		{catalog.MissingField, []string{"symbol"}, nil, 0},
		{catalog.InvalidFormat, []string{"expires_at"}, map[string]string{"offset": "17"}, 0},
		{catalog.InvalidArgument, []string{"quantity"}, map[string]string{"offset": "17"}, 0},
		{catalog.NotFound, nil, nil, 0},
		{catalog.ResourceExhausted, nil, map[string]string{"policy": "default"}, sample.RetryDelay},
		{catalog.Unavailable, nil, nil, sample.RetryDelay},
		{catalog.DeadlineExceeded, nil, nil, 0},
		{"WITH_KEYS", nil, map[string]string{"policy": "default", "order_id": "example"}, 0},
	}
	for _, tt := range tests {
		code, _ := cat.Lookup(tt.name)
		e := sample.Error(code)
		assert.Equal(t, tt.name, e.Code, "Error(%s).Code", tt.name)
		var fields []string
		for _, v := range e.Violations {
			fields = append(fields, v.Field)
		}
		assert.Equal(t, tt.fields, fields, "Error(%s) fields", tt.name)
		assert.Equal(t, tt.meta, e.Metadata, "Error(%s).Metadata", tt.name)
		assert.Equal(t, tt.retry, e.RetryAfter, "Error(%s).RetryAfter = %v, want %v", tt.name, e.RetryAfter, tt.retry)
	}
	internal, _ := cat.Lookup(catalog.Internal)
	assert.Error(t, sample.Error(internal).Cause, "Error(INTERNAL) has no cause")
}

func TestEnvelopes(t *testing.T) {
	want := []string{problem.EnvelopeFlat, problem.EnvelopeGoogle, problem.EnvelopeTracked, problem.EnvelopeProblem, problem.EnvelopeGoogleStrict}
	assert.Equal(t, want, sample.Envelopes(), "Envelopes() = %v, want %v", sample.Envelopes(), want)
}

// TestGoogleStrictDomain: the google-strict envelope needs an error domain;
// the examples use the configuration's, else sample.ErrorDomain.
func TestGoogleStrictDomain(t *testing.T) {
	tests := []struct {
		name, domain, want string
	}{
		{"none configured", "", sample.ErrorDomain},
		{"configured", "orders.example.com", "orders.example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rd, err := sample.NewRenderer(problem.Config{ErrorDomain: tt.domain}, problem.EnvelopeGoogleStrict)
			require.NoError(t, err, "NewRenderer(ErrorDomain %q, google-strict) = _, %v", tt.domain, err)
			code, _ := catalog.MustNew("").Lookup(catalog.Internal)
			_, _, body := sample.Body(rd, code)
			var got struct {
				Error struct {
					Details []struct {
						Type     string `json:"@type"`
						Domain   string
						Metadata map[string]string
					}
				}
			}
			require.NoError(t, json.Unmarshal(body, &got), "Body(google-strict, INTERNAL) = %s", body)
			require.NotEmpty(t, got.Error.Details, "Body(google-strict, INTERNAL) = %s, want details", body)
			info := got.Error.Details[0]
			assert.Equal(t, "type.googleapis.com/google.rpc.ErrorInfo", info.Type, "details[0].@type")
			assert.Equal(t, tt.want, info.Domain, "details[0].domain = %q, want %q", info.Domain, tt.want)
			assert.Equal(t, sample.ExcID, info.Metadata["exc_id"], "details[0].metadata.exc_id")
		})
	}
}
