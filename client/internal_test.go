package client

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestParseProtoDuration(t *testing.T) {
	cases := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"3s", 3 * time.Second, true},
		{"1.5s", 1500 * time.Millisecond, true},
		{"0.000000001s", 1, true},
		{"1.123456789s", time.Second + 123456789, true},
		{".5s", 500 * time.Millisecond, true},
		{"-1s", 0, true},
		{"-0.5s", 0, true},
		{"9999999999999999999s", maxDuration, true},
		{"9223372036.9s", maxDuration, true},
		{"3", 0, false},
		{"s", 0, false},
		{".s", 0, false},
		{"1.1234567890s", 0, false},
		{"1.2.3s", 0, false},
		{"1xs", 0, false},
		{"--1s", 0, false},
	}
	for _, tc := range cases {
		got, ok := parseProtoDuration(tc.in)
		assert.Equal(t, tc.ok, ok, "parseProtoDuration(%q) ok = %v, want %v", tc.in, ok, tc.ok)
		assert.Equal(t, tc.want, got, "parseProtoDuration(%q) = %v, want %v", tc.in, got, tc.want)
	}
}

func TestSystemClock(t *testing.T) {
	var c SystemClock
	assert.WithinDuration(t, time.Now(), c.Now(), time.Second)
	assert.NoError(t, c.Sleep(context.Background(), 0), "Sleep(0)")
	assert.NoError(t, c.Sleep(context.Background(), -time.Second), "Sleep(-1s)")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, c.Sleep(ctx, time.Hour), context.Canceled, "Sleep(cancelled, 1h)")
	assert.ErrorIs(t, c.Sleep(ctx, 0), context.Canceled, "Sleep(cancelled, 0)")
}

// TestBreakersBounded: past maxCircuits hosts, healthy circuits are
// forgotten and failing ones kept.
func TestBreakersBounded(t *testing.T) {
	b := newBreakers(BreakerConfig{Failures: 5, OpenFor: time.Minute, Probes: 1})
	now := time.Unix(1_800_000_000, 0)
	tk, _ := b.allow("failing", now)
	b.record("failing", tk, outcomeFailure, now)
	for i := range 3 * maxCircuits {
		host := "h" + strconv.Itoa(i)
		tk, err := b.allow(host, now)
		assert.NoError(t, err)
		b.record(host, tk, outcomeSuccess, now)
	}
	assert.LessOrEqual(t, len(b.hosts), maxCircuits, "circuits kept")
	assert.Equal(t, 1, b.hosts["failing"].failures, "the failing host's count survives eviction")
}

// TestPacerBounded: past the caps, hosts without a hold and old paths are
// forgotten; a held host is kept.
func TestPacerBounded(t *testing.T) {
	p := newPacer()
	now := time.Unix(1_800_000_000, 0)
	p.observe("held", "/a", http.Header{"Ratelimit": {`"k";r=0;t=60`}}, now)
	for i := range 2 * maxPacedHosts {
		p.observe("h"+strconv.Itoa(i), "/", http.Header{"Ratelimit": {`"k";r=5;t=1`}}, now)
	}
	for i := range 2 * maxPacedPaths {
		p.observe("held", "/p"+strconv.Itoa(i), http.Header{"Ratelimit": {`"k";r=0;t=60`}}, now)
	}
	assert.LessOrEqual(t, len(p.hosts), maxPacedHosts, "hosts kept")
	assert.LessOrEqual(t, len(p.hosts["held"].paths), maxPacedPaths, "paths kept")
	wait, policy := p.hold("held", "/a", now)
	assert.Equal(t, time.Minute, wait, "hold(held, /a) = %v, want 1m", wait)
	assert.Equal(t, "k", policy)
}
