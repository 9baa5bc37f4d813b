package redisstore

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// ClientLogger writes go-redis's log lines as structured records of a
// *slog.Logger, at most one a second. go-redis logs through a global of
// its own, in plain text on stderr by default, a line per failed dial:
// a service routes it here with
//
//	redis.SetLogger(redisstore.Logger(logger))
//
// This package never sets that global itself. Each record is a WARN
// "redis client" with the line as "detail" and, as "suppressed", how
// many lines the second before it dropped. A ClientLogger is safe for
// concurrent use.
type ClientLogger struct {
	log *slog.Logger
	now func() time.Time

	mu         sync.Mutex // guards next and suppressed
	next       time.Time  // when the next line may be written
	suppressed int        // lines dropped since the last written one
}

// Logger returns a ClientLogger writing to l; a nil l is slog.Default().
func Logger(l *slog.Logger) *ClientLogger {
	if l == nil {
		l = slog.Default()
	}
	return &ClientLogger{log: l, now: time.Now}
}

// logEvery is the shortest time between two records.
const logEvery = time.Second

// Printf implements go-redis's logging interface: it writes the line, or
// counts it when a line was written less than a second ago.
func (l *ClientLogger) Printf(ctx context.Context, format string, v ...any) {
	now := l.now()
	l.mu.Lock()
	if now.Before(l.next) {
		l.suppressed++
		l.mu.Unlock()
		return
	}
	l.next = now.Add(logEvery)
	n := l.suppressed
	l.suppressed = 0
	l.mu.Unlock()
	line := strings.TrimSpace(fmt.Sprintf(format, v...))
	l.log.LogAttrs(ctx, slog.LevelWarn, "redis client", slog.String("detail", line), slog.Int("suppressed", n))
}
