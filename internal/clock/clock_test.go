package clock_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/internal/clock"
)

func TestCoarseStartsAtNow(t *testing.T) {
	tests := []struct {
		name  string
		since time.Duration // how long before NewCoarse the epoch is
	}{
		{"epoch now", 0},
		{"epoch an hour ago", time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			epoch := time.Now().Add(-tt.since)
			before := time.Since(epoch)
			c := clock.NewCoarse(epoch, time.Hour) // never ticks during the test
			defer c.Stop()
			after := time.Since(epoch)
			got := time.Duration(c.Nanos())
			assert.GreaterOrEqual(t, got, before, "NewCoarse(now-%v).Nanos() = %v, want >= %v", tt.since, got, before)
			assert.LessOrEqual(t, got, after, "NewCoarse(now-%v).Nanos() = %v, want <= %v", tt.since, got, after)
		})
	}
}

func TestCoarseAdvances(t *testing.T) {
	const res = time.Millisecond
	epoch := time.Now()
	c := clock.NewCoarse(epoch, res)
	defer c.Stop()
	first := c.Nanos()
	require.Eventually(t, func() bool { return c.Nanos() >= first+int64(5*res) }, time.Second, res,
		"Nanos() stayed at %v for a second with a resolution of %v", time.Duration(first), res)
	// Close behind real time: within a few ticks (a loaded machine may
	// delay one).
	require.Eventually(t, func() bool {
		lag := time.Since(epoch) - time.Duration(c.Nanos())
		return lag >= 0 && lag <= 3*res
	}, time.Second, res/2, "Nanos() never came within 3 ticks of real time")
}

// TestCoarseMonotonic reads the clock from several goroutines while it
// ticks: no reader sees it go back, nor ahead of real time.
func TestCoarseMonotonic(t *testing.T) {
	epoch := time.Now()
	c := clock.NewCoarse(epoch, 100*time.Microsecond)
	defer c.Stop()
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			prev := c.Nanos()
			deadline := time.Now().Add(50 * time.Millisecond)
			for time.Now().Before(deadline) {
				n := c.Nanos()
				real := int64(time.Since(epoch))
				if n < prev {
					errs <- "Nanos() went back from " + time.Duration(prev).String() + " to " + time.Duration(n).String()
					return
				}
				if n > real {
					errs <- "Nanos() = " + time.Duration(n).String() + " is ahead of real time " + time.Duration(real).String()
					return
				}
				prev = n
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestCoarseStop(t *testing.T) {
	c := clock.NewCoarse(time.Now(), time.Millisecond)
	assert.True(t, c.Running(), "Running() after NewCoarse = false, want true")
	c.Stop()
	c.Stop() // safe twice
	assert.False(t, c.Running(), "Running() after Stop = true, want false")
	stopped := c.Nanos()
	time.Sleep(5 * time.Millisecond)
	after := c.Nanos()
	assert.GreaterOrEqual(t, after, stopped+int64(5*time.Millisecond),
		"Nanos() 5ms after Stop = %d, want >= %d: a stopped clock reads the system clock", after, stopped+int64(5*time.Millisecond))
	assert.False(t, c.Running(), "Running() after reading a stopped clock = true, want false")
}

// TestCoarseIdles checks that the goroutine stops after idleTicks ticks
// without a reading, and that the next reading is fresh and restarts it.
func TestCoarseIdles(t *testing.T) {
	epoch := time.Now()
	c := clock.NewCoarse(epoch, 100*time.Microsecond)
	defer c.Stop()
	require.True(t, c.Running(), "Running() after NewCoarse = false, want true")
	require.Eventually(t, func() bool { return !c.Running() }, 10*time.Second, time.Millisecond,
		"the ticking goroutine still runs after 1000 idle ticks of 100µs")
	time.Sleep(2 * time.Millisecond)
	real := int64(time.Since(epoch))
	got := c.Nanos()
	assert.GreaterOrEqual(t, got, real, "Nanos() on an idle clock = %d, want a fresh reading >= %d", got, real)
	assert.True(t, c.Running(), "Running() after a reading of an idle clock = false, want true")
	prev := c.Nanos()
	require.Eventually(t, func() bool { return c.Nanos() > prev }, time.Second, time.Millisecond,
		"the restarted clock does not advance")
}
