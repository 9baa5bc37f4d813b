package client

import (
	"fmt"
	"strings"
	"time"
)

// Quota is one policy of a RateLimit header (draft-ietf-httpapi-ratelimit-
// headers): `"sandbox";r=0;t=3` says policy sandbox has 0 requests left and
// is full again in 3 seconds.
type Quota struct {
	// Policy is the policy name, a String or a Token.
	Policy string
	// Remaining is the r parameter: requests left.
	Remaining int64
	// Reset is the t parameter: the time until the quota is restored;
	// zero when the header does not say.
	Reset time.Duration
}

// ParseRateLimit parses the values of RateLimit header lines, joined as
// one RFC 9651 List. Members whose policy name is not a String or Token,
// or that lack a non-negative Integer r, are skipped, as are inner lists;
// a negative t is taken as 0. Unknown parameters are ignored. A value that
// is not a List fails with ErrMalformedHeader and no quotas, as RFC 9651
// asks of a field that does not parse.
func ParseRateLimit(values ...string) ([]Quota, error) {
	members, err := parseSFList(strings.Join(values, ", "))
	if err != nil {
		return nil, fmt.Errorf("%w: RateLimit %.80q", ErrMalformedHeader, strings.Join(values, ", "))
	}
	var out []Quota
	for _, m := range members {
		if m.isList || m.value.kind != sfString && m.value.kind != sfToken {
			continue
		}
		q, ok := Quota{Policy: m.value.s}, false
		for _, p := range m.params {
			switch {
			case p.key == "r" && p.value.kind == sfInteger && p.value.n >= 0:
				q.Remaining, ok = p.value.n, true
			case p.key == "t" && p.value.kind == sfInteger && p.value.n > 0:
				q.Reset = maxDuration
				if p.value.n < int64(maxDuration/time.Second) {
					q.Reset = time.Duration(p.value.n) * time.Second
				}
			}
		}
		if ok {
			out = append(out, q)
		}
	}
	return out, nil
}
