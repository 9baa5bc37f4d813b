package clock

import (
	"sync"
	"sync/atomic"
	"time"
)

// idleTicks is how many ticks without a reading stop the ticking goroutine.
const idleTicks = 1000

// Coarse is a monotonic clock that a background goroutine advances every
// resolution while it is read. Readings are nanoseconds since the clock's
// epoch; they never decrease and lag real time by at most about one
// resolution (more only if the ticking goroutine is starved of CPU). The
// goroutine stops after a thousand ticks without a reading and the next
// reading starts it again, so an idle clock costs nothing.
type Coarse struct {
	epoch      time.Time
	resolution time.Duration
	now        atomic.Int64
	running    atomic.Bool // the ticking goroutine runs
	read       atomic.Bool // Nanos was called since the last tick
	halted     atomic.Bool // Stop was called

	mu      sync.Mutex // guards stopped and serializes starting the goroutine
	stopped bool
	quit    chan struct{} // closed by Stop
	done    chan struct{} // closed when the running goroutine exits; nil if none
}

// NewCoarse returns a clock that ticks every resolution while it is read.
func NewCoarse(epoch time.Time, resolution time.Duration) *Coarse {
	c := &Coarse{epoch: epoch, resolution: resolution, quit: make(chan struct{})}
	c.wake()
	return c
}

// Nanos returns the nanoseconds since the epoch, as of the last tick.
func (c *Coarse) Nanos() int64 {
	if !c.read.Load() {
		c.read.Store(true)
	}
	if !c.running.Load() {
		return c.wake()
	}
	return c.now.Load()
}

// wake brings the clock up to date and starts the goroutine unless it runs
// or the clock was stopped. It returns the fresh reading.
func (c *Coarse) wake() int64 {
	fresh := c.advance()
	if c.halted.Load() {
		return fresh
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.stopped && !c.running.Load() {
		if c.done != nil {
			<-c.done // the previous goroutine is on its way out
		}
		c.done = make(chan struct{})
		c.running.Store(true)
		go c.run(c.done)
	}
	return fresh
}

// advance stores the real time unless a later reading is already stored.
func (c *Coarse) advance() int64 {
	fresh := int64(time.Since(c.epoch))
	for {
		old := c.now.Load()
		if fresh <= old {
			return old
		}
		if c.now.CompareAndSwap(old, fresh) {
			return fresh
		}
	}
}

// Running reports whether the ticking goroutine runs.
func (c *Coarse) Running() bool { return c.running.Load() }

// Stop stops the ticking goroutine for good; later readings read the system
// clock. It is safe to call more than once.
func (c *Coarse) Stop() {
	c.mu.Lock()
	if !c.stopped {
		c.stopped = true
		c.halted.Store(true)
		close(c.quit)
	}
	done := c.done
	c.mu.Unlock()
	if done != nil {
		<-done
	}
}

func (c *Coarse) run(done chan struct{}) {
	defer close(done)
	t := time.NewTicker(c.resolution)
	defer t.Stop()
	idle := 0
	for {
		select {
		case <-c.quit:
			c.running.Store(false)
			return
		case <-t.C:
			c.advance()
			if c.read.Swap(false) {
				idle = 0
			} else if idle++; idle >= idleTicks {
				c.running.Store(false)
				return
			}
		}
	}
}
