package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/middleware"
	"github.com/faultline-go/faultline/ratelimit"
)

// epoch is the instant frozenStore decides at.
var epoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// frozenStore is a MemoryStore that decides every request at one instant,
// so that no bucket refills while a test runs, however slowly.
type frozenStore struct{ *ratelimit.MemoryStore }

var _ ratelimit.Store = frozenStore{}

func (s frozenStore) Take(_ context.Context, checks []ratelimit.Check, res []ratelimit.Result) (bool, error) {
	return s.TakeAt(epoch, checks, res)
}

func (s frozenStore) Refund(_ context.Context, checks []ratelimit.Check, res []ratelimit.Result) error {
	return s.RefundAt(epoch, checks, res)
}

// downStore is a store whose server cannot be reached.
type downStore struct{}

var _ ratelimit.Store = downStore{}

func (downStore) Take(context.Context, []ratelimit.Check, []ratelimit.Result) (bool, error) {
	return false, fmt.Errorf("%w: dial tcp 127.0.0.1:6379: connection refused", ratelimit.ErrStoreUnavailable)
}

func (downStore) Refund(context.Context, []ratelimit.Check, []ratelimit.Result) error {
	return fmt.Errorf("%w: dial tcp 127.0.0.1:6379: connection refused", ratelimit.ErrStoreUnavailable)
}

func (downStore) Close() error { return nil }

// newTestServer is newServer on cfg, logging nowhere, closed at the end of
// the test.
func newTestServer(t *testing.T, cfg config) *server {
	t.Helper()
	cfg.Logger = slog.New(slog.DiscardHandler)
	srv, err := newServer(cfg)
	require.NoError(t, err, "newServer(cfg)")
	t.Cleanup(func() { srv.Close() })
	return srv
}

// request is one request of a test and the status it must get.
type request struct {
	path   string
	auth   bool // with the demo key pair
	header http.Header
	want   int
}

// send serves each request on h and checks its status; it returns the
// request ids of the responses.
func send(t *testing.T, h http.Handler, reqs []request) []string {
	t.Helper()
	var ids []string
	for _, rq := range reqs {
		r := httptest.NewRequest(http.MethodGet, rq.path, nil)
		if rq.auth {
			r.SetBasicAuth("demo-key", "demo-secret")
		}
		for k, v := range rq.header {
			r.Header[k] = v
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		require.Equal(t, rq.want, w.Code, "GET %s (auth %t) = %d, want %d: %s", rq.path, rq.auth, w.Code, rq.want, w.Body)
		ids = append(ids, w.Header().Get("X-Request-Id"))
	}
	return ids
}

// scrape GETs /metrics from h and parses the text exposition.
func scrape(t *testing.T, h http.Handler) map[string]*dto.MetricFamily {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	require.Equal(t, http.StatusOK, w.Code, "GET /metrics = %d, want 200: %s", w.Code, w.Body)
	assert.Contains(t, w.Header().Get("Content-Type"), "text/plain", "GET /metrics Content-Type")
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(w.Body)
	require.NoError(t, err, "parse GET /metrics")
	return fams
}

// series is one sample of a scrape: the value of a counter or a gauge, or
// the count and sum of a histogram.
type series struct {
	value, count, sum float64
}

// find returns the sample of metric name whose labels are exactly labels
// (name=value pairs), and whether there is one.
func find(fams map[string]*dto.MetricFamily, name string, labels ...string) (series, bool) {
	for _, m := range fams[name].GetMetric() {
		var got []string
		for _, l := range m.GetLabel() {
			got = append(got, l.GetName()+"="+l.GetValue())
		}
		if strings.Join(got, ",") != strings.Join(labels, ",") {
			continue
		}
		switch {
		case m.Counter != nil:
			return series{value: m.GetCounter().GetValue()}, true
		case m.Gauge != nil:
			return series{value: m.GetGauge().GetValue()}, true
		case m.Histogram != nil:
			return series{count: float64(m.GetHistogram().GetSampleCount()), sum: m.GetHistogram().GetSampleSum()}, true
		}
	}
	return series{}, false
}

// want is a sample a scrape must hold; labels are sorted by name, as the
// exposition sorts them.
type want struct {
	name   string
	labels []string
	series
}

func assertSeries(t *testing.T, fams map[string]*dto.MetricFamily, wants []want) {
	t.Helper()
	for _, w := range wants {
		got, ok := find(fams, w.name, w.labels...)
		if assert.True(t, ok, "GET /metrics has no %s%v", w.name, w.labels) {
			assert.Equal(t, w.series, got, "GET /metrics %s%v = %+v, want %+v", w.name, w.labels, got, w.series)
		}
	}
}

func TestMetricsOfRequests(t *testing.T) {
	srv := newTestServer(t, config{Store: frozenStore{ratelimit.NewMemoryStore(ratelimit.MemoryConfig{})}})
	ids := send(t, srv, []request{
		{path: "/v1/accounts/acc_1", auth: true, want: http.StatusOK},       // sandbox r=9
		{path: "/v1/accounts/acc_2", auth: true, want: http.StatusNotFound}, // sandbox r=8
		{path: "/v1/accounts/acc_1", want: http.StatusUnauthorized},         // no decision
		{path: "/nowhere", want: http.StatusNotFound},                       // no decision
		{path: "/v1/reports", auth: true, want: http.StatusOK},              // sandbox r=7, reports r=1
		{path: "/v1/reports", auth: true, want: http.StatusOK},              // sandbox r=6, reports r=0
		{path: "/v1/reports", auth: true, want: http.StatusTooManyRequests}, // sandbox r=5 (refunded), reports refused
	})
	fams := scrape(t, srv)

	// A latency is a duration of the test's run: only its count is fixed.
	latency := func(fams map[string]*dto.MetricFamily, code string) float64 {
		s, _ := find(fams, "faultline_error_latency_seconds", "code="+code)
		assert.Positive(t, s.sum, "faultline_error_latency_seconds_sum{code=%s}", code)
		return s.count
	}
	assert.Equal(t, 2.0, latency(fams, "NOT_FOUND"), "faultline_error_latency_seconds_count{code=NOT_FOUND}")
	assert.Equal(t, 1.0, latency(fams, "MISSING_AUTHORIZATION"), "faultline_error_latency_seconds_count{code=MISSING_AUTHORIZATION}")
	assert.Equal(t, 1.0, latency(fams, "RESOURCE_EXHAUSTED"), "faultline_error_latency_seconds_count{code=RESOURCE_EXHAUSTED}")

	assertSeries(t, fams, []want{
		{"faultline_errors_total", []string{"code=MISSING_AUTHORIZATION", "status=401"}, series{value: 1}},
		{"faultline_errors_total", []string{"code=NOT_FOUND", "status=404"}, series{value: 2}},
		{"faultline_errors_total", []string{"code=RESOURCE_EXHAUSTED", "status=429"}, series{value: 1}},
		{"faultline_ratelimit_decisions_total", []string{"allowed=true", "policy=sandbox", "source=store"}, series{value: 5}},
		{"faultline_ratelimit_decisions_total", []string{"allowed=true", "policy=reports", "source=store"}, series{value: 2}},
		{"faultline_ratelimit_decisions_total", []string{"allowed=false", "policy=reports", "source=store"}, series{value: 1}},
		{"faultline_ratelimit_remaining", []string{"policy=sandbox"}, series{count: 5, sum: 9 + 8 + 7 + 6 + 5}},
		{"faultline_ratelimit_remaining", []string{"policy=reports"}, series{count: 3, sum: 1}},
		{"faultline_ratelimit_store_errors_total", nil, series{value: 0}},
		{"faultline_ratelimit_breaker_open", nil, series{value: 0}},
	})
	assert.Len(t, fams["faultline_errors_total"].GetMetric(), 3, "series of faultline_errors_total")
	assert.Len(t, fams["faultline_ratelimit_decisions_total"].GetMetric(), 3, "series of faultline_ratelimit_decisions_total")
	assert.Empty(t, fams["faultline_errors_sampled_out_total"].GetMetric(), "series of faultline_errors_sampled_out_total")
	assertNoLabelValue(t, fams, append(ids, "demo-key")...)
}

// assertNoLabelValue checks that no series is labelled with one of values:
// labels must not grow a series per request or per key.
func assertNoLabelValue(t *testing.T, fams map[string]*dto.MetricFamily, values ...string) {
	t.Helper()
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				assert.NotContains(t, values, l.GetValue(), "%s has label %s=%q", name, l.GetName(), l.GetValue())
			}
		}
	}
}

func TestMetricsOfStoreOutage(t *testing.T) {
	now := epoch // the breaker's clock: it stays open, as no probe is due
	srv := newTestServer(t, config{Store: downStore{}, Now: func() time.Time { return now }})
	send(t, srv, []request{
		{path: "/v1/accounts/acc_1", auth: true, want: http.StatusOK}, // the store fails: breaker open, fallback
		{path: "/v1/accounts/acc_1", auth: true, want: http.StatusOK}, // breaker open: the store is not asked
	})
	assertSeries(t, scrape(t, srv), []want{
		{"faultline_ratelimit_decisions_total", []string{"allowed=true", "policy=sandbox", "source=fallback"}, series{value: 2}},
		{"faultline_ratelimit_store_errors_total", nil, series{value: 1}},
		{"faultline_ratelimit_breaker_open", nil, series{value: 1}},
	})
}

func TestMetricsExemplar(t *testing.T) {
	srv := newTestServer(t, config{})
	const trace = "4bf92f3577b34da6a3ce929d0e0e4736"
	send(t, srv, []request{{
		path:   "/nowhere",
		header: http.Header{"Traceparent": {"00-" + trace + "-00f067aa0ba902b7-01"}},
		want:   http.StatusNotFound,
	}})

	r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	r.Header.Set("Accept", "application/openmetrics-text; version=1.0.0")
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, r)
	require.Equal(t, http.StatusOK, w.Code, "GET /metrics (OpenMetrics) = %d, want 200", w.Code)
	body, err := io.ReadAll(w.Body)
	require.NoError(t, err)
	assert.Contains(t, string(body), `trace_id="`+trace+`"`, "GET /metrics (OpenMetrics) has no exemplar of the trace")
}

func TestNewServerErrors(t *testing.T) {
	taken := prometheus.NewRegistry()
	newTestServer(t, config{Registry: taken})
	tests := []struct {
		name string
		cfg  config
		want string
	}{
		{"registry holding the metrics", config{Registry: taken}, "register faultline metrics"},
		{"empty key", config{Keys: []middleware.KeyPair{{Secret: "s"}}}, "empty key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Logger = slog.New(slog.DiscardHandler)
			srv, err := newServer(tt.cfg)
			assert.Nil(t, srv, "newServer(%s) server", tt.name)
			assert.ErrorContains(t, err, tt.want, "newServer(%s) error", tt.name)
		})
	}
}
