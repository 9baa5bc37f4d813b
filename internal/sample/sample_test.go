package sample_test

import (
	"encoding/json"
	"testing"

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
	}{
		{catalog.MissingField, []string{"symbol"}, nil},
		{catalog.InvalidFormat, []string{"expires_at"}, map[string]string{"offset": "17"}},
		{catalog.InvalidArgument, []string{"quantity"}, map[string]string{"offset": "17"}},
		{catalog.NotFound, nil, nil},
		{catalog.ResourceExhausted, nil, map[string]string{"policy": "default"}},
		{"WITH_KEYS", nil, map[string]string{"policy": "default", "order_id": "example"}},
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
	}
	internal, _ := cat.Lookup(catalog.Internal)
	assert.Error(t, sample.Error(internal).Cause, "Error(INTERNAL) has no cause")
}
