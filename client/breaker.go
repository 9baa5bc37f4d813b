package client

import (
	"fmt"
	"sync"
	"time"
)

// State is the state of a host's circuit breaker.
type State uint8

// Breaker states. A circuit is closed while the host answers; it opens
// after BreakerConfig.Failures consecutive failures and fails every request
// fast; after BreakerConfig.OpenFor it is half-open and lets
// BreakerConfig.Probes requests through at a time: a probe that succeeds
// closes it, one that fails opens it again.
const (
	StateClosed State = iota
	StateOpen
	StateHalfOpen
)

// String returns "closed", "open" or "half-open".
func (s State) String() string {
	switch s {
	case StateClosed:
		return "closed"
	case StateOpen:
		return "open"
	case StateHalfOpen:
		return "half-open"
	}
	return fmt.Sprintf("State(%d)", s)
}

// CircuitOpenError is returned, without sending the request, while the
// circuit to Host is open, or half-open with every probe in flight.
// errors.Is(err, ErrCircuitOpen) matches it.
type CircuitOpenError struct {
	// Host is the host the circuit guards.
	Host string
	// State is StateOpen or StateHalfOpen.
	State State
	// RetryAt is when the circuit lets a probe through: the end of the
	// open period, or, while probes are in flight, now.
	RetryAt time.Time
}

// Error says which circuit is open and when it tries again.
func (e *CircuitOpenError) Error() string {
	return fmt.Sprintf("client: circuit to %s is %s; next try at %s", e.Host, e.State, e.RetryAt.UTC().Format(time.RFC3339Nano))
}

// Is matches ErrCircuitOpen.
func (e *CircuitOpenError) Is(target error) bool { return target == ErrCircuitOpen }

// outcome is what an attempt tells the breaker.
type outcome uint8

const (
	outcomeSuccess outcome = iota // an answer below 500, a 4xx or 429 included
	outcomeFailure                // a 5xx, a timeout or a network error
	outcomeNeutral                // cancelled by the caller: says nothing of the host
)

// maxCircuits caps the hosts tracked; past it, closed circuits with no
// failures are forgotten.
const maxCircuits = 1024

// breakers holds a circuit per host.
type breakers struct {
	cfg BreakerConfig

	mu    sync.Mutex // guards hosts and every circuit in it
	hosts map[string]*circuit
}

// circuit is one host's breaker; its fields are guarded by breakers.mu.
type circuit struct {
	state    State
	failures int       // consecutive, while closed
	until    time.Time // end of the open period
	probes   int       // in flight, while half-open
	gen      uint64    // bumped on every state change
}

// ticket is an admitted attempt: the generation it was admitted in, so an
// answer from before a state change cannot close or open the circuit
// again, and whether it is a probe.
type ticket struct {
	gen   uint64
	probe bool
}

func newBreakers(cfg BreakerConfig) *breakers {
	return &breakers{cfg: cfg, hosts: map[string]*circuit{}}
}

// allow admits an attempt to host at now, or returns a *CircuitOpenError.
func (b *breakers) allow(host string, now time.Time) (ticket, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c := b.circuit(host)
	if c.state == StateOpen {
		if now.Before(c.until) {
			return ticket{}, &CircuitOpenError{Host: host, State: StateOpen, RetryAt: c.until}
		}
		c.set(StateHalfOpen)
	}
	if c.state == StateHalfOpen {
		if c.probes >= b.cfg.Probes {
			return ticket{}, &CircuitOpenError{Host: host, State: StateHalfOpen, RetryAt: now}
		}
		c.probes++
		return ticket{gen: c.gen, probe: true}, nil
	}
	return ticket{gen: c.gen}, nil
}

// record takes the outcome of an admitted attempt and returns the state
// after it.
func (b *breakers) record(host string, t ticket, o outcome, now time.Time) State {
	b.mu.Lock()
	defer b.mu.Unlock()
	c := b.circuit(host)
	if t.gen != c.gen {
		return c.state
	}
	if t.probe {
		c.probes--
	}
	switch {
	case o == outcomeNeutral:
	case o == outcomeSuccess:
		c.failures = 0
		if c.state == StateHalfOpen {
			c.set(StateClosed)
		}
	case c.state == StateHalfOpen:
		c.open(now.Add(b.cfg.OpenFor))
	default:
		if c.failures++; c.failures >= b.cfg.Failures {
			c.open(now.Add(b.cfg.OpenFor))
		}
	}
	return c.state
}

// state returns host's state at now; an open circuit whose period is over
// reads as half-open.
func (b *breakers) state(host string, now time.Time) (State, time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, ok := b.hosts[host]
	switch {
	case !ok:
		return StateClosed, time.Time{}
	case c.state == StateOpen && !now.Before(c.until):
		return StateHalfOpen, c.until
	}
	return c.state, c.until
}

// circuit returns host's circuit, creating it; requires b.mu.
func (b *breakers) circuit(host string) *circuit {
	if c, ok := b.hosts[host]; ok {
		return c
	}
	if len(b.hosts) >= maxCircuits {
		for h, c := range b.hosts {
			if c.state == StateClosed && c.failures == 0 {
				delete(b.hosts, h)
			}
		}
	}
	c := &circuit{}
	if len(b.hosts) < maxCircuits {
		b.hosts[host] = c
	}
	return c
}

func (c *circuit) set(s State) {
	c.state, c.probes = s, 0
	c.gen++
}

func (c *circuit) open(until time.Time) {
	c.set(StateOpen)
	c.until, c.failures = until, 0
}
