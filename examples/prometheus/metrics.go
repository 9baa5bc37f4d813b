package main

import (
	"context"
	"fmt"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/faultline-go/faultline/problem"
	"github.com/faultline-go/faultline/ratelimit"
)

// remainingBuckets are the upper bounds of faultline_ratelimit_remaining:
// 0 first, so that empty buckets (the next request is refused) have a
// bucket of their own, then roughly doubling up to the bursts of most
// plans.
var remainingBuckets = []float64{0, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000}

// metrics holds the collectors the two observers update.
//
// Every label takes its values from a bounded set: code from the catalog,
// status from the catalog's statuses, policy from the limiter's policy
// names, allowed from true and false, source from store, fallback and none.
// Request ids, exc ids, trace ids and rate-limit keys are never labels:
// each would make a series per request or per client. The trace id goes
// instead into an exemplar of the latency histogram, which links a slow
// error to its trace without a series of its own. A PolicyFor that names a
// policy per client would break this bound; give computed policies names
// from a fixed set.
type metrics struct {
	errors     *prometheus.CounterVec   // code, status
	latency    *prometheus.HistogramVec // code
	sampledOut *prometheus.CounterVec   // code

	decisions   *prometheus.CounterVec   // policy, allowed, source
	remaining   *prometheus.HistogramVec // policy
	storeErrors prometheus.Counter
	breakerOpen prometheus.Gauge
}

// newMetrics registers faultline's metrics with reg and returns the
// observers that update them, for problem.Config.Observer and
// ratelimit.Config.Observer:
//
//   - faultline_errors_total{code,status}: every error answered (or, once
//     the response had started, only logged);
//   - faultline_error_latency_seconds{code}: the time from the request's
//     start (recorded by middleware.Stack) to its error, with the trace id
//     of a valid traceparent header as exemplar;
//   - faultline_errors_sampled_out_total{code}: errors whose log record the
//     client-error log limit dropped;
//   - faultline_ratelimit_decisions_total{policy,allowed,source}: one per
//     policy of each decision, allowed being that policy's own verdict (so
//     the refusals of a policy count the requests it refused); a decision
//     no store made (the store failing under FailOpen or FailClosed) counts
//     once, with an empty policy;
//   - faultline_ratelimit_remaining{policy}: the whole tokens left in the
//     caller's bucket after each decision;
//   - faultline_ratelimit_store_errors_total: the store calls that failed;
//   - faultline_ratelimit_breaker_open: 1 while the store's breaker is open
//     or half-open, 0 once it is closed, as of the last decision.
//
// The observers are safe for concurrent use and keep nothing of their
// events. newMetrics fails if one of the metrics is registered already.
func newMetrics(reg prometheus.Registerer) (problem.ErrorObserver, ratelimit.DecisionObserver, error) {
	m := &metrics{
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "faultline_errors_total",
			Help: "Errors answered, by catalog code and HTTP status.",
		}, []string{"code", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "faultline_error_latency_seconds",
			Help:    "Time from the start of a request to its error, by catalog code.",
			Buckets: prometheus.DefBuckets,
		}, []string{"code"}),
		sampledOut: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "faultline_errors_sampled_out_total",
			Help: "Client errors whose log record the client-error log limit dropped, by catalog code.",
		}, []string{"code"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "faultline_ratelimit_decisions_total",
			Help: "Rate-limit verdicts, by policy, by whether the policy allowed the request, and by what decided (store, fallback, none).",
		}, []string{"policy", "allowed", "source"}),
		remaining: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "faultline_ratelimit_remaining",
			Help:    "Whole tokens left in the caller's bucket after a decision, by policy.",
			Buckets: remainingBuckets,
		}, []string{"policy"}),
		storeErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "faultline_ratelimit_store_errors_total",
			Help: "Rate-limit store calls that failed.",
		}),
		breakerOpen: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "faultline_ratelimit_breaker_open",
			Help: "1 while the rate-limit store's breaker is open or half-open, 0 while it is closed, as of the last decision.",
		}),
	}
	for _, c := range []prometheus.Collector{
		m.errors, m.latency, m.sampledOut, m.decisions, m.remaining, m.storeErrors, m.breakerOpen,
	} {
		if err := reg.Register(c); err != nil {
			return nil, nil, fmt.Errorf("register faultline metrics: %w", err)
		}
	}
	return m.observeError, m.observeDecision, nil
}

// observeError is the problem.ErrorObserver of m.
func (m *metrics) observeError(_ context.Context, ev problem.ErrorEvent) {
	m.errors.WithLabelValues(ev.Code, strconv.Itoa(ev.Status)).Inc()
	if ev.SampledOut {
		m.sampledOut.WithLabelValues(ev.Code).Inc()
	}
	// A latency of 0 means no start was recorded (a renderer used outside
	// middleware.Stack): observing it would drag the histogram towards 0.
	if ev.Latency <= 0 {
		return
	}
	h := m.latency.WithLabelValues(ev.Code)
	if ex, ok := h.(prometheus.ExemplarObserver); ok && ev.TraceID != "" {
		ex.ObserveWithExemplar(ev.Latency.Seconds(), prometheus.Labels{"trace_id": ev.TraceID})
		return
	}
	h.Observe(ev.Latency.Seconds())
}

// observeDecision is the ratelimit.DecisionObserver of m. It reads
// ev.Policies only during the call, as the limiter reuses them.
func (m *metrics) observeDecision(_ context.Context, ev ratelimit.DecisionEvent) {
	source := ev.Source.String()
	if len(ev.Policies) == 0 {
		m.decisions.WithLabelValues("", strconv.FormatBool(ev.Allowed), source).Inc()
	}
	for _, p := range ev.Policies {
		m.decisions.WithLabelValues(p.Policy, strconv.FormatBool(p.Allowed), source).Inc()
		m.remaining.WithLabelValues(p.Policy).Observe(float64(p.Remaining))
	}
	if ev.StoreErr != nil {
		m.storeErrors.Inc()
	}
	if ev.Breaker == "closed" {
		m.breakerOpen.Set(0)
	} else {
		m.breakerOpen.Set(1)
	}
}
