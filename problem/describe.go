package problem

import (
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// standards is what a Renderer needs beyond its envelope to meet the
// standards its envelopes follow.
type standards struct {
	domain string // ErrorInfo domain of google-strict
}

// newStandards validates the parts of cfg that standards uses; env is the
// selected envelope.
func newStandards(cfg Config, env Envelope) (standards, error) {
	var s standards
	if cfg.ErrorDomain != "" {
		if err := checkDomain(cfg.ErrorDomain); err != nil {
			return s, err
		}
	} else if env.Name() == EnvelopeGoogleStrict {
		return s, fmt.Errorf("%w: the %s envelope needs ErrorDomain (%s)", ErrInvalidConfig, EnvelopeGoogleStrict, EnvErrorDomain)
	}
	s.domain = cfg.ErrorDomain
	return s, nil
}

// TypeQuotaExceeded is the problem type of a 429 in the problem envelope
// when no type base URI is configured: the "quota-exceeded" type of the
// IETF RateLimit header fields draft (draft-ietf-httpapi-ratelimit-headers-11,
// "Problem Types"), whose extension member violated-policies names the
// quota policies the request exceeded (Error.Policies).
const TypeQuotaExceeded = "https://iana.org/assignments/http-problem-types#quota-exceeded"

// titleQuotaExceeded is the title of TypeQuotaExceeded, as the draft's
// example writes it (spelled right).
const titleQuotaExceeded = "Request cannot be satisfied as assigned quota has been exceeded"

// describe fills in what p says about the request and where the client
// reads more: instance, type and title.
func (rd *Renderer) describe(p *Problem, r *http.Request) {
	p.Instance = instance(r)
	p.Domain = rd.std.domain
	switch {
	case rd.typeBase != "":
		p.Type, p.Title = rd.typeBase+"/"+kebab(p.Code.Name), statusTitle(p.Status)
		if p.Code.Title != "" {
			p.Title = p.Code.Title
		}
	case p.Status == http.StatusTooManyRequests:
		p.Type, p.Title = TypeQuotaExceeded, titleQuotaExceeded
	default:
		p.Type, p.Title = "about:blank", statusTitle(p.Status)
	}
}

// retryAfterValues are the shared Retry-After header values of 1 to 60
// seconds, index = seconds, each capped so that an append copies; a 429's
// Retry-After is nearly always one of them, and a fresh []string per
// response was a third of its allocations.
var retryAfterValues = func() (v [61][]string) {
	for i := 1; i < len(v); i++ {
		s := []string{strconv.Itoa(i)}
		v[i] = s[:1:1]
	}
	return v
}()

// retryAfterHeader returns the Retry-After header value of d
// (RetryAfterSeconds), shared when it is 60 seconds or less.
func retryAfterHeader(d time.Duration) []string {
	if d <= 60*time.Second {
		s := (d + time.Second - 1) / time.Second // d > 0: no overflow
		return retryAfterValues[max(s, 1)]
	}
	return []string{RetryAfterSeconds(d)}
}
