package reference

import (
	"strconv"
	"strings"
)

// format is a representation the handler offers.
type format int

const (
	formatJSON format = iota
	formatMarkdown
)

// offers are the handler's representations, most preferred first: on a tie
// the earlier one wins.
var offers = [...]struct {
	typ, sub string
	format   format
}{
	{"application", "json", formatJSON},
	{"text", "markdown", formatMarkdown},
}

// negotiate picks the representation for the Accept header values: the
// offer with the highest quality, where an offer's quality is that of the
// most specific media range matching it (RFC 9110, section 12.5.1). JSON
// wins ties, and is the answer when the header is absent, unreadable or
// accepts neither: answering 406 would need the service's envelope, and a
// representation the client did not ask for is allowed.
func negotiate(accept []string) format {
	var best [len(offers)]struct {
		q           float64
		specificity int // 0 none, 1 */*, 2 type/*, 3 type/subtype
	}
	for _, line := range accept {
		for line != "" {
			var item string
			item, line = cutUnquoted(line, ',')
			typ, sub, q, ok := parseRange(item)
			if !ok {
				continue
			}
			for i, o := range offers {
				spec := matches(typ, sub, o.typ, o.sub)
				if spec > best[i].specificity {
					best[i].q, best[i].specificity = q, spec
				}
			}
		}
	}
	choice, q := formatJSON, 0.0
	for i, o := range offers {
		if best[i].q > q {
			choice, q = o.format, best[i].q
		}
	}
	return choice
}

// matches reports how specifically the media range typ/sub matches the
// media type otyp/osub: 0 when it does not.
func matches(typ, sub, otyp, osub string) int {
	switch {
	case typ == "*" && sub == "*":
		return 1
	case typ != otyp:
		return 0
	case sub == "*":
		return 2
	case sub == osub:
		return 3
	}
	return 0
}

// parseRange parses one media range with its parameters, such as
// `text/markdown;q=0.8`: its type and subtype in lower case and its quality
// (1 when not given). ok is false for anything malformed, and for a range
// whose quality is not a valid qvalue (0 to 1, at most three decimals).
func parseRange(s string) (typ, sub string, q float64, ok bool) {
	mt, params := cutUnquoted(s, ';')
	typ, sub, found := strings.Cut(strings.ToLower(strings.TrimSpace(mt)), "/")
	if !found || !token(typ) || !token(sub) || typ == "*" && sub != "*" {
		return "", "", 0, false
	}
	q = 1
	for params != "" {
		var p string
		p, params = cutUnquoted(params, ';')
		name, value, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(strings.TrimSpace(name), "q") {
			if q, ok = qvalue(strings.TrimSpace(value)); !ok {
				return "", "", 0, false
			}
			break // what follows q are accept extensions
		}
	}
	return typ, sub, q, true
}

// qvalue parses a weight: "0" to "1", with at most three decimals.
func qvalue(s string) (float64, bool) {
	if s == "" || len(s) > 5 || (s[0] != '0' && s[0] != '1') {
		return 0, false
	}
	if len(s) > 1 && (s[1] != '.' || strings.Trim(s[2:], "0123456789") != "") {
		return 0, false
	}
	q, err := strconv.ParseFloat(s, 64)
	if err != nil || q > 1 {
		return 0, false
	}
	return q, true
}

// token reports whether s is a non-empty RFC 9110 token.
func token(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// cutUnquoted slices s around the first sep that is not inside a quoted
// string (RFC 9110, section 5.6.4: a parameter value may be quoted, and hold
// commas and semicolons, with backslash escapes).
func cutUnquoted(s string, sep byte) (before, after string) {
	quoted := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case !quoted && c == sep:
			return s[:i], s[i+1:]
		}
	}
	return s, ""
}
