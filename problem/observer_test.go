package problem_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/catalog"
	"github.com/faultline-go/faultline/problem"
)

const testTraceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

// events collects what an ErrorObserver is given.
type events struct {
	mu  sync.Mutex // guards evs
	evs []problem.ErrorEvent
}

func (e *events) observe(_ context.Context, ev problem.ErrorEvent) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.evs = append(e.evs, ev)
}

func TestObserver(t *testing.T) {
	clk := &clock{now: fixedNow}
	got := new(events)
	rd, logs := newRenderer(t, problem.Config{Now: clk.Now, ClientLogLimit: 1, Observer: got.observe}, slog.LevelInfo)
	req := func(start bool) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/orders/42", nil)
		r.Header.Set(problem.HeaderTraceparent, testTraceparent)
		if start {
			r = r.WithContext(problem.WithRequestStart(r.Context(), fixedNow.Add(-250*time.Millisecond)))
		}
		return r
	}
	rd.Write(httptest.NewRecorder(), req(true), notFound())
	rd.Write(httptest.NewRecorder(), req(false), notFound()) // over the limit of 1
	rec500 := httptest.NewRecorder()
	rd.Write(rec500, req(true), errors.New("db down"))
	rd.Write(committedWriter{newSpy()}, req(false), problem.New(catalog.Conflict, ""))

	require.Len(t, got.evs, 4, "events")
	ids := []string{got.evs[0].RequestID, got.evs[1].RequestID, got.evs[2].RequestID, ""}
	excID := excIDOf(t, rec500.Body.String())
	assert.Equal(t, []problem.ErrorEvent{
		{Code: "NOT_FOUND", Status: 404, RequestID: ids[0], TraceID: "4bf92f3577b34da6a3ce929d0e0e4736",
			Time: fixedNow, Latency: 250 * time.Millisecond},
		{Code: "NOT_FOUND", Status: 404, RequestID: ids[1], TraceID: "4bf92f3577b34da6a3ce929d0e0e4736",
			Time: fixedNow, SampledOut: true},
		{Code: "INTERNAL", Status: 500, ExcID: excID, RequestID: ids[2], TraceID: "4bf92f3577b34da6a3ce929d0e0e4736",
			Time: fixedNow, Latency: 250 * time.Millisecond},
		{Code: "CONFLICT", Status: 409, TraceID: "4bf92f3577b34da6a3ce929d0e0e4736", Time: fixedNow, Committed: true},
	}, got.evs, "events")
	for i, id := range ids[:3] {
		assert.Regexp(t, uuidPattern, id, "event %d request id", i)
	}

	recs := logs.records(t)
	require.Len(t, recs, 3, "records: the second 404 is sampled out")
	for _, r := range recs {
		assert.Equal(t, "4bf92f3577b34da6a3ce929d0e0e4736", r["trace_id"], "trace_id of %v", r["code"])
	}
}

func TestTraceIDInLog(t *testing.T) {
	tests := []struct {
		name        string
		traceparent []string
		want        any // nil: no trace_id attribute
	}{
		{"valid", []string{testTraceparent}, "4bf92f3577b34da6a3ce929d0e0e4736"},
		{"none", nil, nil},
		{"invalid", []string{"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"}, nil},
		{"two headers", []string{testTraceparent, testTraceparent}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rd, logs := envRenderer(t, problem.EnvelopeFlat)
			r := httptest.NewRequest(http.MethodGet, "/x", nil)
			r.Header[problem.HeaderTraceparent] = tt.traceparent
			rd.Write(httptest.NewRecorder(), r, notFound())
			assert.Equal(t, tt.want, logs.only(t)["trace_id"], "trace_id for traceparent %q", tt.traceparent)
		})
	}
}

func TestRequestStart(t *testing.T) {
	_, ok := problem.RequestStart(context.Background())
	assert.False(t, ok, "RequestStart(Background) ok")
	ctx := problem.WithRequestStart(context.Background(), fixedNow)
	got, ok := problem.RequestStart(context.WithValue(ctx, struct{}{}, 1))
	assert.True(t, ok, "RequestStart(WithRequestStart(t)) ok")
	assert.True(t, fixedNow.Equal(got), "RequestStart(WithRequestStart(t)) = %v, want %v", got, fixedNow)
}

func TestObserves(t *testing.T) {
	without, _ := envRenderer(t, problem.EnvelopeFlat)
	assert.False(t, without.Observes(), "Observes() without an observer")
	with := problem.MustRenderer(problem.Config{Observer: func(context.Context, problem.ErrorEvent) {}})
	assert.True(t, with.Observes(), "Observes() with an observer")
}
