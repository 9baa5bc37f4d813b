package ratelimit

import (
	"net/http"
	"strconv"

	"github.com/faultline-go/faultline/problem"
)

// Header names written by the limiter. RateLimit and RateLimit-Policy are
// those of the IETF draft "RateLimit header fields for HTTP"
// (draft-ietf-httpapi-ratelimit-headers), as RFC 9651 structured-field
// lists: one item per policy, "name";q=burst;w=seconds to refill, and
// "name";r=remaining;t=seconds until full.
const (
	HeaderRateLimit           = "RateLimit"
	HeaderRateLimitPolicy     = "RateLimit-Policy"
	HeaderXRateLimitLimit     = "X-RateLimit-Limit"
	HeaderXRateLimitRemaining = "X-RateLimit-Remaining"
	HeaderXRateLimitReset     = "X-RateLimit-Reset"
	HeaderRetryAfter          = problem.HeaderRetryAfter
)

// Canonical forms, for setting header map entries directly.
const (
	canonicalRateLimit       = "Ratelimit"
	canonicalRateLimitPolicy = "Ratelimit-Policy"
)

// setHeaders writes d's RateLimit-Policy and RateLimit field lines. A
// limiter owns one line of each header per request (d.line), so two
// limiters in one chain both show, each with its own policies.
func (d *decision) setHeaders(h http.Header) {
	var policy, value []string
	switch {
	case d.n == 1:
		c := d.pols[0]
		policy, value = c.field[:1:1], c.values.get(&d.res[0])
	case d.lines != nil:
		policy, value = d.lines.policyLine(d.pols[:d.n]), d.lines.valueLine(d.pols[:d.n], d.res[:d.n])
	}
	if policy == nil {
		policy = []string{joinItems(d.pols[:d.n])}
	}
	if value == nil {
		value = []string{d.valueList()}
	}
	d.line = setLine(h, canonicalRateLimitPolicy, d.line, policy)
	setLine(h, canonicalRateLimit, d.line, value)
	if d.l.legacy {
		d.setLegacy(h)
	}
}

// setLine sets line i of header k to v[0], appending a line when i is -1
// (or beyond the lines there), and returns the line's index. A one-line
// header takes v itself, which may be shared: it is never written into.
func setLine(h http.Header, k string, i int, v []string) int {
	lines := h[k]
	switch {
	case len(lines) == 0 || len(lines) == 1 && i == 0:
		h[k] = v
		return 0
	case i < 0 || i >= len(lines):
		h[k] = append(lines[:len(lines):len(lines)], v[0])
		return len(lines)
	}
	lines = append([]string(nil), lines...)
	lines[i] = v[0]
	h[k] = lines
	return i
}

// valueList formats the RateLimit line of d: one item per check.
func (d *decision) valueList() string {
	var buf [256]byte
	b := buf[:0]
	for i := 0; i < d.n; i++ {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = appendValue(b, d.pols[i].policy.Name, &d.res[i])
	}
	return string(b)
}

// appendValue appends one RateLimit item: "name";r=remaining;t=seconds.
// Validated names need no escaping.
func appendValue(b []byte, name string, r *Result) []byte {
	b = append(b, '"')
	b = append(b, name...)
	b = append(b, `";r=`...)
	b = strconv.AppendInt(b, int64(r.Remaining), 10)
	b = append(b, ";t="...)
	return strconv.AppendInt(b, wholeSeconds(r.Reset), 10)
}

// setLegacy sets the X-RateLimit-* headers for the policy with the fewest
// remaining tokens.
func (d *decision) setLegacy(h http.Header) {
	m := 0
	for i := 1; i < d.n; i++ {
		if d.res[i].Remaining < d.res[m].Remaining {
			m = i
		}
	}
	h.Set(HeaderXRateLimitLimit, strconv.Itoa(d.pols[m].policy.Burst))
	h.Set(HeaderXRateLimitRemaining, strconv.Itoa(d.res[m].Remaining))
	h.Set(HeaderXRateLimitReset, strconv.FormatInt(wholeSeconds(d.res[m].Reset), 10))
}
