package problem

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/faultline-go/faultline/catalog"
)

// standards is what a Renderer needs beyond its envelope to meet the
// standards its envelopes follow. It is read-only once built.
type standards struct {
	domain    string // ErrorInfo domain of google-strict
	typeBase  string // TypeBaseURI without a trailing slash
	docLinks  bool   // Config.DocLinks
	negotiate bool   // Config.Negotiate
	// docs holds the type URI and Link header of every code the catalog
	// had when the renderer was built; codes registered later are
	// computed per response.
	docs map[string]docRef
}

// docRef is where a code's documentation is: TypeBaseURI + "/" + the
// code name in kebab case, and the Link header value naming it.
type docRef struct {
	url  string
	link []string // `<url>; rel="help"`, capped so that an append copies
}

// linkSuffix ends a Link header value naming a code's documentation.
const linkSuffix = `>; rel="help"`

func newDocRef(typeBase, name string) docRef {
	link := "<" + typeBase + "/" + kebab(name) + linkSuffix
	v := []string{link}
	return docRef{url: link[1 : len(link)-len(linkSuffix)], link: v[:1:1]}
}

// newStandards validates the parts of cfg that standards uses; env is the
// selected envelope and cat the catalog.
func newStandards(cfg Config, env Envelope, cat *catalog.Catalog) (standards, error) {
	var s standards
	if cfg.ErrorDomain != "" {
		if err := checkDomain(cfg.ErrorDomain); err != nil {
			return s, err
		}
	} else if env.Name() == EnvelopeGoogleStrict {
		return s, fmt.Errorf("%w: the %s envelope needs ErrorDomain (%s)", ErrInvalidConfig, EnvelopeGoogleStrict, EnvErrorDomain)
	}
	if cfg.DocLinks && cfg.TypeBaseURI == "" {
		return s, fmt.Errorf("%w: DocLinks needs a TypeBaseURI to link to", ErrInvalidConfig)
	}
	s.domain, s.docLinks, s.negotiate = cfg.ErrorDomain, cfg.DocLinks, cfg.Negotiate
	s.typeBase = strings.TrimSuffix(cfg.TypeBaseURI, "/")
	if s.typeBase != "" {
		s.docs = make(map[string]docRef, cat.Len())
		for _, c := range cat.Codes() {
			s.docs[c.Name] = newDocRef(s.typeBase, c.Name)
		}
	}
	return s, nil
}

// doc returns where code is documented; s.typeBase must be set.
func (s *standards) doc(code *catalog.Code) docRef {
	if d, ok := s.docs[code.Name]; ok {
		return d
	}
	return newDocRef(s.typeBase, code.Name)
}

// addLink adds the Link header naming code's documentation, when
// DocLinks is set, after any Link the error brings.
func (s *standards) addLink(h http.Header, code *catalog.Code) {
	if s.docLinks {
		s.setLink(h, code)
	}
}

// setLink is addLink with DocLinks set.
func (s *standards) setLink(h http.Header, code *catalog.Code) {
	link := s.doc(code).link
	if prev := h["Link"]; len(prev) > 0 {
		link = append(prev[:len(prev):len(prev)], link[0])
	}
	h["Link"] = link
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
// reads more, for env: instance, type and title. The built-in envelopes
// that have no instance member are spared the scan of the path.
func (rd *Renderer) describe(p *Problem, r *http.Request, env Envelope) {
	switch env.(type) {
	case FlatEnvelope, GoogleEnvelope, TrackedEnvelope, GoogleStrictEnvelope:
	default:
		p.Instance = instance(r)
	}
	p.Domain = rd.std.domain
	switch {
	case rd.std.typeBase != "":
		p.Type, p.Title = rd.std.doc(p.Code).url, statusTitle(p.Status)
		if rd.std.docLinks {
			p.DocURL = p.Type
		}
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
