package client

import (
	"context"
	"time"
)

// Clock is the time source of a Transport: every wait it takes goes
// through Sleep, every decision reads Now. Tests pass a virtual clock so
// that backoff, Retry-After, pacing and the breaker's open period run
// without real waiting.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// Sleep waits for d or until ctx is done, whichever comes first, and
	// returns ctx.Err() in the second case. A d of zero or less returns
	// at once (with ctx.Err() if ctx is already done).
	Sleep(ctx context.Context, d time.Duration) error
}

// SystemClock is the real Clock, time.Now and a timer.
type SystemClock struct{}

var _ Clock = SystemClock{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// Sleep waits for d on a timer, or until ctx is done.
func (SystemClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
