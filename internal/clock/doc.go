// Package clock provides a coarse monotonic clock for hot paths.
//
// # The model
//
// A Coarse clock is read with one atomic load instead of a clock_gettime
// call. A background goroutine advances the reading every resolution while
// the clock is being read, so a reading lags real time by up to about one
// resolution and never decreases. The goroutine stops after a thousand
// ticks without a reading and the next reading starts it again, so an idle
// clock costs nothing; Stop ends it for good.
package clock
