// Package clienttest holds what tests of code that uses package client
// need: a virtual Clock, so that a Transport's backoff, Retry-After waits,
// pacing and breaker run in no real time.
package clienttest

import (
	"context"
	"sync"
	"time"

	"github.com/faultline-go/faultline/client"
)

// Clock is a virtual client.Clock: Sleep records the wait and moves the
// time on at once, and Advance moves it without a sleep. It is safe for
// concurrent use; a service's own clock (a rate-limit store's, say) can
// read Now too, so that a wait the client takes passes on the server.
type Clock struct {
	mu     sync.Mutex // guards now and sleeps
	now    time.Time
	sleeps []time.Duration
}

var _ client.Clock = (*Clock)(nil)

// NewClock returns a Clock at start.
func NewClock(start time.Time) *Clock { return &Clock{now: start} }

// Now returns the virtual time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Sleep returns ctx.Err() if ctx is done; otherwise it records d (when
// positive) and moves the time on by d.
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil || d <= 0 {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	return nil
}

// Advance moves the time on by d without recording a sleep.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Sleeps returns the waits Sleep recorded, in order.
func (c *Clock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}
