package problem

import "net/http"

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
