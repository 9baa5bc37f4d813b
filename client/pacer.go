package client

import (
	"net/http"
	"slices"
	"sync"
	"time"
)

// Caps on what the pacer remembers: hosts, and paths per host. Past a cap
// the entries without an active hold (hosts) or all of them (paths) are
// forgotten, so a client that calls many hosts or paths stays bounded.
const (
	maxPacedHosts = 1024
	maxPacedPaths = 256
)

// pacer holds requests to a host and policy that a RateLimit header said
// were exhausted (r=0) until the policy's t seconds are over.
//
// A request does not say which policies apply to it; the server's answers
// do. The pacer remembers, per host, the policies the last answer for each
// path listed, and the policies every answer from the host listed (a key
// pair's policy appears on all of them, a route policy only on its
// route). A request to a path seen before waits for that path's policies;
// one to a new path waits for the host-wide ones.
type pacer struct {
	mu    sync.Mutex // guards hosts and every pacedHost in it
	hosts map[string]*pacedHost
}

type pacedHost struct {
	until  map[string]time.Time // policy → end of its hold
	paths  map[string][]string  // path → policies its last answer listed
	common []string             // policies every answer listed
	seen   bool                 // an answer listed policies
}

func newPacer() *pacer { return &pacer{hosts: map[string]*pacedHost{}} }

// hold returns how long a request to host and path must wait at now, and
// the policy that holds it.
func (p *pacer) hold(host, path string, now time.Time) (time.Duration, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	h, ok := p.hosts[host]
	if !ok {
		return 0, ""
	}
	policies, ok := h.paths[path]
	if !ok {
		policies = h.common
	}
	var wait time.Duration
	policy := ""
	for _, name := range policies {
		if d := h.until[name].Sub(now); d > wait {
			wait, policy = d, name
		}
	}
	return wait, policy
}

// observe reads the RateLimit header of an answer from host for path.
// An answer without one, or with one that does not parse, changes nothing.
func (p *pacer) observe(host, path string, header http.Header, now time.Time) {
	values := header.Values(HeaderRateLimit)
	if len(values) == 0 {
		return
	}
	quotas, err := ParseRateLimit(values...)
	if err != nil {
		return
	}
	names := make([]string, len(quotas))
	for i, q := range quotas {
		names[i] = q.Policy
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	h := p.host(host, now)
	if len(h.paths) >= maxPacedPaths {
		clear(h.paths)
	}
	h.paths[path] = names
	if !h.seen {
		h.common, h.seen = names, true
	} else {
		h.common = slices.DeleteFunc(slices.Clone(h.common), func(n string) bool { return !slices.Contains(names, n) })
	}
	for name, t := range h.until {
		if !t.After(now) {
			delete(h.until, name)
		}
	}
	for _, q := range quotas {
		switch {
		case q.Remaining == 0 && q.Reset > 0:
			h.until[q.Policy] = now.Add(q.Reset)
		case q.Remaining > 0:
			delete(h.until, q.Policy)
		}
	}
}

// host returns host's record, creating it; requires p.mu.
func (p *pacer) host(host string, now time.Time) *pacedHost {
	if h, ok := p.hosts[host]; ok {
		return h
	}
	if len(p.hosts) >= maxPacedHosts {
		for name, h := range p.hosts {
			if !h.holding(now) {
				delete(p.hosts, name)
			}
		}
	}
	h := &pacedHost{until: map[string]time.Time{}, paths: map[string][]string{}}
	if len(p.hosts) < maxPacedHosts {
		p.hosts[host] = h
	}
	return h
}

// holding reports whether any policy of h is held at now.
func (h *pacedHost) holding(now time.Time) bool {
	for _, t := range h.until {
		if t.After(now) {
			return true
		}
	}
	return false
}
