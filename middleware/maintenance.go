package middleware

import (
	"net/http"
	"sync/atomic"
	"time"

	"github.com/faultline-go/faultline/catalog"
	"github.com/faultline-go/faultline/problem"
)

// Switch is an on/off flag that is safe to flip while requests are served.
// The zero value is off.
type Switch struct {
	on atomic.Bool
}

// NewSwitch returns a Switch set to on.
func NewSwitch(on bool) *Switch {
	s := new(Switch)
	s.on.Store(on)
	return s
}

// Set turns the switch on or off.
func (s *Switch) Set(on bool) { s.on.Store(on) }

// On reports whether the switch is on.
func (s *Switch) On() bool { return s.on.Load() }

// DefaultMaintenanceRetryAfter is the Retry-After of Maintenance when none is
// given.
const DefaultMaintenanceRetryAfter = 60 * time.Second

// Maintenance answers every request with 503 UNAVAILABLE and a Retry-After
// header while sw is on, and passes requests through while it is off.
// retryAfter of zero means DefaultMaintenanceRetryAfter.
func Maintenance(sw *Switch, retryAfter time.Duration) func(http.Handler) http.Handler {
	if retryAfter <= 0 {
		retryAfter = DefaultMaintenanceRetryAfter
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if sw.On() {
				problem.Write(w, r, &problem.Error{
					Code:       catalog.Unavailable,
					Message:    "The service is down for maintenance.",
					RetryAfter: retryAfter,
				})
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}
