package problem

import (
	"testing"
	"time"
)

func TestRetryAfterHeader(t *testing.T) {
	for _, d := range []time.Duration{1, time.Millisecond, 999 * time.Millisecond, time.Second,
		time.Second + 1, 1500 * time.Millisecond, 59*time.Second + 1, 60 * time.Second,
		60*time.Second + 1, time.Hour, 1<<63 - 1} {
		got := retryAfterHeader(d)
		if len(got) != 1 || got[0] != RetryAfterSeconds(d) {
			t.Errorf("retryAfterHeader(%v) = %q, want [%q]", d, got, RetryAfterSeconds(d))
		}
		if cap(got) != len(got) {
			t.Errorf("retryAfterHeader(%v) has cap %d, want %d so that an append copies", d, cap(got), len(got))
		}
	}
}

func TestAppendDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{2 * time.Second, "2s"},
		{1500 * time.Millisecond, "1.500s"},
		{time.Second + time.Microsecond, "1.000001s"},
		{time.Nanosecond, "0.000000001s"},
		{123456789 * time.Nanosecond, "0.123456789s"},
		{90 * time.Second, "90s"},
		{time.Hour + 10*time.Millisecond, "3600.010s"},
	}
	for _, tc := range tests {
		if got := string(appendDuration(nil, tc.d)); got != tc.want {
			t.Errorf("appendDuration(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}
