package problem

import (
	"net/http"
	"strings"
)

// The two media types negotiation chooses between.
var (
	mediaProblem = mediaType{typ: "application", sub: "problem+json"}
	mediaJSON    = mediaType{typ: "application", sub: "json", charset: "utf-8"}
)

// Shared header values of negotiated responses; never modified.
var (
	headerProblem   = []string{ContentTypeProblem}
	headerJSON      = []string{ContentTypeJSON}
	headerVary      = []string{"Accept"}
	problemEnvelope = ProblemEnvelope{}
)

// pick returns the envelope and Content-Type header value for r. Without
// Config.Negotiate they are the configured ones. With it, and an Accept
// header, the problem envelope is chosen when the client prefers
// application/problem+json to application/json, and a problem body goes
// out as application/json when the client accepts that but not
// application/problem+json; any other Accept leaves the configured choice.
func (s *standards) pick(env Envelope, ctype []string, r *http.Request) (Envelope, []string) {
	if !s.negotiate {
		return env, ctype
	}
	return negotiated(env, ctype, r)
}

// negotiated is pick with Config.Negotiate set.
func negotiated(env Envelope, ctype []string, r *http.Request) (Envelope, []string) {
	accept := r.Header.Values("Accept")
	if len(accept) == 0 {
		return env, ctype
	}
	problemQ, jsonQ := acceptWeights(accept)
	if problemQ > jsonQ && env.ContentType() != ContentTypeProblem {
		env, ctype = problemEnvelope, headerProblem
	}
	if problemQ == 0 && jsonQ > 0 && env.ContentType() == ContentTypeProblem {
		ctype = headerJSON
	}
	return env, ctype
}

// addVary adds Accept to the Vary header of a negotiated response, so that
// caches keep the answers to different Accept headers apart.
func (s *standards) addVary(h http.Header) {
	if !s.negotiate {
		return
	}
	vary := headerVary
	if prev := h["Vary"]; len(prev) > 0 {
		vary = append(prev[:len(prev):len(prev)], headerVary[0])
	}
	h["Vary"] = vary
}

// mediaType is a media type the renderer can send.
type mediaType struct {
	typ, sub string
	charset  string // the only parameter either type has; "" for none
}

// acceptWeights returns the weights, in thousandths (0 to 1000), that the
// Accept header field values give application/problem+json and
// application/json (RFC 9110, 12.5.1): for each type, the weight of the
// most specific media range that matches it (type/subtype with parameters,
// then type/subtype, then type/*, then */*), 0 when none does. Type,
// subtype and parameter names are case-insensitive, and so is the value of
// charset; a range whose parameters the type does not have does not match
// it; parameters after the weight are ignored. A malformed range, or one
// with a malformed weight, is skipped. It does not allocate.
func acceptWeights(values []string) (problemQ, jsonQ int) {
	var bestProblem, bestJSON weight
	for _, v := range values {
		for len(v) > 0 {
			var item string
			item, v = nextItem(v)
			rg, ok := parseRange(item)
			if !ok {
				continue
			}
			bestProblem.offer(rg, mediaProblem)
			bestJSON.offer(rg, mediaJSON)
		}
	}
	return bestProblem.q, bestJSON.q
}

// weight is the most specific match yet of a media range for one type.
type weight struct {
	spec int // 0: no match yet
	q    int
}

// offer takes rg's weight for m if rg matches m more specifically than
// what w holds; among equally specific ranges the highest weight wins.
func (w *weight) offer(rg mediaRange, m mediaType) {
	spec := rg.match(m)
	if spec > w.spec || spec == w.spec && spec > 0 && rg.q > w.q {
		w.spec, w.q = spec, rg.q
	}
}

// mediaRange is one parsed element of an Accept header.
type mediaRange struct {
	typ, sub string // "*" for a wildcard
	params   string // the parameters before the weight, ";"-separated, unparsed
	q        int    // thousandths
}

// match returns how specifically rg matches m: 0 not at all, 1 for */*, 2
// for type/*, 3 for type/subtype, plus one per parameter.
func (rg mediaRange) match(m mediaType) int {
	switch {
	case rg.typ == "*":
		return 1
	case !strings.EqualFold(rg.typ, m.typ):
		return 0
	case rg.sub == "*":
		return 2
	case !strings.EqualFold(rg.sub, m.sub):
		return 0
	}
	spec := 3
	for p := rg.params; p != ""; {
		var name, value string
		name, value, p, _ = nextParam(p)
		if name == "" {
			continue
		}
		if !strings.EqualFold(name, "charset") || m.charset == "" || !equalFoldUnquoted(value, m.charset) {
			return 0
		}
		spec++
	}
	return spec
}

// nextItem splits the first element off an Accept field value, at a comma
// outside a quoted string.
func nextItem(v string) (item, rest string) {
	quoted := false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case !quoted && c == ',':
			return v[:i], v[i+1:]
		}
	}
	return v, ""
}

// parseRange parses one media range with its parameters and weight.
func parseRange(item string) (mediaRange, bool) {
	item = trimOWS(item)
	var rg mediaRange
	slash := strings.IndexByte(item, '/')
	if slash < 0 {
		return rg, false
	}
	rg.typ = item[:slash]
	rest := item[slash+1:]
	end := tokenEnd(rest)
	rg.sub, rest = rest[:end], trimOWS(rest[end:])
	if !isToken(rg.typ) || rg.sub == "" || rg.typ == "*" && rg.sub != "*" {
		return rg, false
	}
	rg.q = 1000
	if rest == "" {
		return rg, true
	}
	if rest[0] != ';' {
		return rg, false
	}
	params := rest[1:]
	n := 0 // length of the parameters before the weight
	for p := params; p != ""; {
		name, value, next, ok := nextParam(p)
		if !ok {
			return rg, false
		}
		if name != "" && strings.EqualFold(name, "q") {
			if rg.q, ok = parseQ(value); !ok {
				return rg, false
			}
			break // what follows the weight is no media type parameter
		}
		p = next
		n = len(params) - len(p)
	}
	rg.params = params[:n]
	return rg, true
}

// nextParam parses the first parameter of a ";"-separated list, `name=value`
// with value a token or a quoted string, and returns the rest after its
// ";". An empty parameter (RFC 9110 allows ";;") gives an empty name. ok is
// false when the parameter is malformed.
func nextParam(p string) (name, value, rest string, ok bool) {
	p = trimOWS(p)
	switch {
	case p == "":
		return "", "", "", true
	case p[0] == ';':
		return "", "", p[1:], true
	}
	eq := strings.IndexByte(p, '=')
	if eq <= 0 || !isToken(p[:eq]) {
		return "", "", "", false
	}
	name, p = p[:eq], p[eq+1:]
	end := tokenEnd(p)
	if len(p) > 0 && p[0] == '"' {
		if end = quotedEnd(p); end < 0 {
			return "", "", "", false
		}
	}
	if end == 0 {
		return "", "", "", false
	}
	value, p = p[:end], trimOWS(p[end:])
	switch {
	case p == "":
		return name, value, "", true
	case p[0] == ';':
		return name, value, p[1:], true
	}
	return "", "", "", false
}

// tokenEnd returns the length of the token that p starts with.
func tokenEnd(p string) int {
	end := 0
	for end < len(p) && isTokenByte(p[end]) {
		end++
	}
	return end
}

// quotedEnd returns the length of the quoted string that p starts with,
// or -1 when it is not terminated.
func quotedEnd(p string) int {
	for i := 1; i < len(p); i++ {
		switch p[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}

// parseQ parses an RFC 9110 qvalue, "0" to "1" with up to three decimals,
// into thousandths.
func parseQ(s string) (int, bool) {
	if s == "" || len(s) > 5 || s[0] != '0' && s[0] != '1' {
		return 0, false
	}
	q := int(s[0]-'0') * 1000
	if len(s) == 1 {
		return q, true
	}
	if s[1] != '.' {
		return 0, false
	}
	scale := 100
	for i := 2; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' || q == 1000 && c != '0' {
			return 0, false
		}
		q += int(c-'0') * scale
		scale /= 10
	}
	return q, true
}

// equalFoldUnquoted reports whether the parameter value v, a token or a
// quoted string, is s, ignoring case.
func equalFoldUnquoted(v, s string) bool {
	if len(v) < 2 || v[0] != '"' {
		return strings.EqualFold(v, s)
	}
	v = v[1 : len(v)-1]
	j := 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '\\' && i+1 < len(v) {
			i++
			c = v[i]
		}
		if j >= len(s) || lower(c) != lower(s[j]) {
			return false
		}
		j++
	}
	return j == len(s)
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func trimOWS(s string) string {
	return strings.Trim(s, " \t")
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenByte(s[i]) {
			return false
		}
	}
	return true
}

// isTokenByte reports whether c is an RFC 9110 tchar.
func isTokenByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}
