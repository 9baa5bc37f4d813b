package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/problem"
	"github.com/faultline-go/faultline/ratelimit"
)

// newTestMetrics returns the observers of newMetrics on a registry of
// their own.
func newTestMetrics(t *testing.T) (*prometheus.Registry, problem.ErrorObserver, ratelimit.DecisionObserver) {
	t.Helper()
	reg := prometheus.NewRegistry()
	onError, onDecision, err := newMetrics(reg)
	require.NoError(t, err, "newMetrics(registry)")
	return reg, onError, onDecision
}

func TestObserveError(t *testing.T) {
	tests := []struct {
		name   string
		events []problem.ErrorEvent
		metric string // the metric compared
		want   string // its exposition
	}{
		{
			name: "counted by code and status",
			events: []problem.ErrorEvent{
				{Code: "NOT_FOUND", Status: 404, RequestID: "r1"},
				{Code: "NOT_FOUND", Status: 404, RequestID: "r2"},
				{Code: "INTERNAL", Status: 500, ExcID: "exc_1", RequestID: "r3"},
			},
			metric: "faultline_errors_total",
			want: `
# HELP faultline_errors_total Errors answered, by catalog code and HTTP status.
# TYPE faultline_errors_total counter
faultline_errors_total{code="INTERNAL",status="500"} 1
faultline_errors_total{code="NOT_FOUND",status="404"} 2
`,
		},
		{
			name: "sampled out counted by code",
			events: []problem.ErrorEvent{
				{Code: "NOT_FOUND", Status: 404, SampledOut: true},
				{Code: "NOT_FOUND", Status: 404},
				{Code: "UNAUTHENTICATED", Status: 401, SampledOut: true},
			},
			metric: "faultline_errors_sampled_out_total",
			want: `
# HELP faultline_errors_sampled_out_total Client errors whose log record the client-error log limit dropped, by catalog code.
# TYPE faultline_errors_sampled_out_total counter
faultline_errors_sampled_out_total{code="NOT_FOUND"} 1
faultline_errors_sampled_out_total{code="UNAUTHENTICATED"} 1
`,
		},
		{
			name: "latency observed only when the start was recorded",
			events: []problem.ErrorEvent{
				{Code: "NOT_FOUND", Status: 404, Latency: 3 * time.Millisecond},
				{Code: "NOT_FOUND", Status: 404, Latency: 300 * time.Millisecond},
				{Code: "NOT_FOUND", Status: 404}, // no start: not observed
			},
			metric: "faultline_error_latency_seconds",
			want: `
# HELP faultline_error_latency_seconds Time from the start of a request to its error, by catalog code.
# TYPE faultline_error_latency_seconds histogram
faultline_error_latency_seconds_bucket{code="NOT_FOUND",le="0.005"} 1
faultline_error_latency_seconds_bucket{code="NOT_FOUND",le="0.01"} 1
faultline_error_latency_seconds_bucket{code="NOT_FOUND",le="0.025"} 1
faultline_error_latency_seconds_bucket{code="NOT_FOUND",le="0.05"} 1
faultline_error_latency_seconds_bucket{code="NOT_FOUND",le="0.1"} 1
faultline_error_latency_seconds_bucket{code="NOT_FOUND",le="0.25"} 1
faultline_error_latency_seconds_bucket{code="NOT_FOUND",le="0.5"} 2
faultline_error_latency_seconds_bucket{code="NOT_FOUND",le="1"} 2
faultline_error_latency_seconds_bucket{code="NOT_FOUND",le="2.5"} 2
faultline_error_latency_seconds_bucket{code="NOT_FOUND",le="5"} 2
faultline_error_latency_seconds_bucket{code="NOT_FOUND",le="10"} 2
faultline_error_latency_seconds_bucket{code="NOT_FOUND",le="+Inf"} 2
faultline_error_latency_seconds_sum{code="NOT_FOUND"} 0.303
faultline_error_latency_seconds_count{code="NOT_FOUND"} 2
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg, onError, _ := newTestMetrics(t)
			for _, ev := range tt.events {
				onError(context.Background(), ev)
			}
			assert.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(tt.want), tt.metric))
		})
	}
}

// TestObserveErrorExemplar checks that the trace id of an error goes into an
// exemplar of its latency bucket, and into no label.
func TestObserveErrorExemplar(t *testing.T) {
	reg, onError, _ := newTestMetrics(t)
	const trace = "4bf92f3577b34da6a3ce929d0e0e4736"
	onError(context.Background(), problem.ErrorEvent{Code: "INTERNAL", Status: 500, TraceID: trace, Latency: 20 * time.Millisecond})

	fams, err := reg.Gather()
	require.NoError(t, err)
	var exemplars []string
	for _, f := range fams {
		if f.GetName() != "faultline_error_latency_seconds" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				assert.NotEqual(t, trace, l.GetValue(), "label %s carries the trace id", l.GetName())
			}
			for _, b := range m.GetHistogram().GetBucket() {
				for _, l := range b.GetExemplar().GetLabel() {
					exemplars = append(exemplars, l.GetName()+"="+l.GetValue())
				}
			}
		}
	}
	assert.Equal(t, []string{"trace_id=" + trace}, exemplars, "exemplars of faultline_error_latency_seconds")
}

func TestObserveDecision(t *testing.T) {
	down := errors.New("store down")
	tests := []struct {
		name    string
		events  []ratelimit.DecisionEvent
		metrics []string
		want    string
	}{
		{
			name: "one verdict per policy",
			events: []ratelimit.DecisionEvent{
				{Key: "demo-key", Allowed: true, Source: ratelimit.SourceStore, Breaker: "closed", Policies: []ratelimit.PolicyResult{
					{Policy: "sandbox", Result: ratelimit.Result{Allowed: true, Remaining: 9}},
				}},
				{Key: "demo-key", Allowed: false, Source: ratelimit.SourceStore, Breaker: "closed", Policies: []ratelimit.PolicyResult{
					{Policy: "sandbox", Result: ratelimit.Result{Allowed: true, Remaining: 8}},
					{Policy: "reports", Result: ratelimit.Result{Allowed: false, Remaining: 0, RetryAfter: time.Second}},
				}},
			},
			metrics: []string{"faultline_ratelimit_decisions_total", "faultline_ratelimit_remaining"},
			want: `
# HELP faultline_ratelimit_decisions_total Rate-limit verdicts, by policy, by whether the policy allowed the request, and by what decided (store, fallback, none).
# TYPE faultline_ratelimit_decisions_total counter
faultline_ratelimit_decisions_total{allowed="false",policy="reports",source="store"} 1
faultline_ratelimit_decisions_total{allowed="true",policy="sandbox",source="store"} 2
# HELP faultline_ratelimit_remaining Whole tokens left in the caller's bucket after a decision, by policy.
# TYPE faultline_ratelimit_remaining histogram
faultline_ratelimit_remaining_bucket{policy="reports",le="0"} 1
faultline_ratelimit_remaining_bucket{policy="reports",le="1"} 1
faultline_ratelimit_remaining_bucket{policy="reports",le="2"} 1
faultline_ratelimit_remaining_bucket{policy="reports",le="5"} 1
faultline_ratelimit_remaining_bucket{policy="reports",le="10"} 1
faultline_ratelimit_remaining_bucket{policy="reports",le="25"} 1
faultline_ratelimit_remaining_bucket{policy="reports",le="50"} 1
faultline_ratelimit_remaining_bucket{policy="reports",le="100"} 1
faultline_ratelimit_remaining_bucket{policy="reports",le="250"} 1
faultline_ratelimit_remaining_bucket{policy="reports",le="500"} 1
faultline_ratelimit_remaining_bucket{policy="reports",le="1000"} 1
faultline_ratelimit_remaining_bucket{policy="reports",le="+Inf"} 1
faultline_ratelimit_remaining_sum{policy="reports"} 0
faultline_ratelimit_remaining_count{policy="reports"} 1
faultline_ratelimit_remaining_bucket{policy="sandbox",le="0"} 0
faultline_ratelimit_remaining_bucket{policy="sandbox",le="1"} 0
faultline_ratelimit_remaining_bucket{policy="sandbox",le="2"} 0
faultline_ratelimit_remaining_bucket{policy="sandbox",le="5"} 0
faultline_ratelimit_remaining_bucket{policy="sandbox",le="10"} 2
faultline_ratelimit_remaining_bucket{policy="sandbox",le="25"} 2
faultline_ratelimit_remaining_bucket{policy="sandbox",le="50"} 2
faultline_ratelimit_remaining_bucket{policy="sandbox",le="100"} 2
faultline_ratelimit_remaining_bucket{policy="sandbox",le="250"} 2
faultline_ratelimit_remaining_bucket{policy="sandbox",le="500"} 2
faultline_ratelimit_remaining_bucket{policy="sandbox",le="1000"} 2
faultline_ratelimit_remaining_bucket{policy="sandbox",le="+Inf"} 2
faultline_ratelimit_remaining_sum{policy="sandbox"} 17
faultline_ratelimit_remaining_count{policy="sandbox"} 2
`,
		},
		{
			name: "no store decided: one verdict without a policy",
			events: []ratelimit.DecisionEvent{
				{Key: "demo-key", Allowed: true, Source: ratelimit.SourceNone, StoreErr: down, Breaker: "open"},
				{Key: "demo-key", Allowed: false, Source: ratelimit.SourceNone, Breaker: "open"},
			},
			metrics: []string{"faultline_ratelimit_decisions_total", "faultline_ratelimit_remaining"},
			want: `
# HELP faultline_ratelimit_decisions_total Rate-limit verdicts, by policy, by whether the policy allowed the request, and by what decided (store, fallback, none).
# TYPE faultline_ratelimit_decisions_total counter
faultline_ratelimit_decisions_total{allowed="false",policy="",source="none"} 1
faultline_ratelimit_decisions_total{allowed="true",policy="",source="none"} 1
`,
		},
		{
			name: "store errors counted, breaker open",
			events: []ratelimit.DecisionEvent{
				{Allowed: true, Source: ratelimit.SourceFallback, StoreErr: down, Breaker: "open"},
				{Allowed: true, Source: ratelimit.SourceFallback, Breaker: "open"}, // breaker kept the store from being asked
				{Allowed: true, Source: ratelimit.SourceFallback, StoreErr: down, Breaker: "half-open"},
			},
			metrics: []string{"faultline_ratelimit_store_errors_total", "faultline_ratelimit_breaker_open"},
			want: `
# HELP faultline_ratelimit_breaker_open 1 while the rate-limit store's breaker is open or half-open, 0 while it is closed, as of the last decision.
# TYPE faultline_ratelimit_breaker_open gauge
faultline_ratelimit_breaker_open 1
# HELP faultline_ratelimit_store_errors_total Rate-limit store calls that failed.
# TYPE faultline_ratelimit_store_errors_total counter
faultline_ratelimit_store_errors_total 2
`,
		},
		{
			name: "breaker closed again",
			events: []ratelimit.DecisionEvent{
				{Allowed: true, Source: ratelimit.SourceFallback, StoreErr: down, Breaker: "open"},
				{Allowed: true, Source: ratelimit.SourceStore, Breaker: "closed"},
			},
			metrics: []string{"faultline_ratelimit_breaker_open"},
			want: `
# HELP faultline_ratelimit_breaker_open 1 while the rate-limit store's breaker is open or half-open, 0 while it is closed, as of the last decision.
# TYPE faultline_ratelimit_breaker_open gauge
faultline_ratelimit_breaker_open 0
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg, _, onDecision := newTestMetrics(t)
			for _, ev := range tt.events {
				onDecision(context.Background(), ev)
			}
			assert.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(tt.want), tt.metrics...))
		})
	}
}

func TestNewMetricsRegisteredTwice(t *testing.T) {
	reg := prometheus.NewRegistry()
	_, _, err := newMetrics(reg)
	require.NoError(t, err, "newMetrics(registry)")
	_, _, err = newMetrics(reg)
	var already prometheus.AlreadyRegisteredError
	assert.ErrorAs(t, err, &already, "newMetrics(same registry) = %v, want an AlreadyRegisteredError", err)
}
