package main

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/faultline-go/faultline/problem"
	"github.com/faultline-go/faultline/ratelimit"
)

// BenchmarkObserveError is the cost the metrics add to a rendered error.
func BenchmarkObserveError(b *testing.B) {
	onError, _, err := newMetrics(prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	ev := problem.ErrorEvent{Code: "NOT_FOUND", Status: 404, RequestID: "r1", Latency: time.Millisecond}
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			onError(ctx, ev)
		}
	})
}

// BenchmarkObserveDecision is the cost the metrics add to a decision of
// two policies.
func BenchmarkObserveDecision(b *testing.B) {
	_, onDecision, err := newMetrics(prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	ev := ratelimit.DecisionEvent{Key: "demo-key", Allowed: true, Source: ratelimit.SourceStore, Breaker: "closed",
		Policies: []ratelimit.PolicyResult{
			{Policy: "sandbox", Result: ratelimit.Result{Allowed: true, Remaining: 9}},
			{Policy: "reports", Result: ratelimit.Result{Allowed: true, Remaining: 1}},
		}}
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			onDecision(ctx, ev)
		}
	})
}
