package redisstore

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLoggerOncePerSecond feeds a ClientLogger lines on a clock of the
// test's own: one record a second at most, each counting the lines
// dropped before it.
func TestLoggerOncePerSecond(t *testing.T) {
	var buf bytes.Buffer
	l := Logger(slog.New(slog.NewJSONHandler(&buf, nil)))
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	l.now = func() time.Time { return now }
	ctx := context.Background()

	steps := []struct {
		after time.Duration // since the previous line
		line  string
	}{
		{0, "dial 1"},
		{100 * time.Millisecond, "dial 2"}, // dropped
		{800 * time.Millisecond, "dial 3"}, // dropped: 0.9s after the record
		{99 * time.Millisecond, "dial 4"},  // dropped: 0.999s
		{time.Millisecond, "dial 5"},       // written: 1s, 3 dropped
		{5 * time.Second, "dial 6"},        // written, none dropped
	}
	for _, s := range steps {
		now = now.Add(s.after)
		l.Printf(ctx, "redis: %s: connect: connection refused\n", s.line)
	}

	type record struct {
		Level, Msg, Detail string
		Suppressed         int
	}
	var got []record
	dec := json.NewDecoder(&buf)
	for dec.More() {
		var r record
		require.NoError(t, dec.Decode(&r))
		got = append(got, r)
	}
	want := []record{
		{"WARN", "redis client", "redis: dial 1: connect: connection refused", 0},
		{"WARN", "redis client", "redis: dial 5: connect: connection refused", 3},
		{"WARN", "redis client", "redis: dial 6: connect: connection refused", 0},
	}
	assert.Equal(t, want, got, "records of %d lines", len(steps))
}

func TestLoggerNil(t *testing.T) {
	l := Logger(nil)
	assert.Same(t, slog.Default(), l.log, "Logger(nil) writes to slog.Default()")
}
