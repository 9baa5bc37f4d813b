package problem

import (
	"net/http"
	"strings"
)

// instance returns the problem envelope's instance member for r: the path
// as the client sent it, still escaped (the path of r.RequestURI, or
// r.URL.EscapedPath() when the request target is not a path), never the
// decoded r.URL.Path, so that /v1/accounts/a%25b stays /v1/accounts/a%25b
// and a%2Fb does not name another path. RFC 9457 wants a URI reference
// there, so what the client sent is made one:
//
//   - a byte that RFC 3986 does not allow in a path (non-ASCII, `"`, `[`,
//     `\`, a space, a control) and a `%` not followed by two hex digits are
//     percent-encoded;
//   - `#` is percent-encoded, so the path never reads as a fragment;
//   - a path starting with `//` gets a `/.` in front, so it never reads as
//     a network-path reference naming another host (RFC 3986, 5.3 writes
//     such paths the same way); `/.//x` still resolves to the path `//x`;
//   - a relative path whose first segment holds a `:` gets a `./` in front,
//     so it never reads as a scheme.
//
// A path that needs none of this is returned as it is, without allocating.
//
// RequestURI rather than EscapedPath: net/http drops RawPath as soon as the
// target holds one byte that needs escaping, and EscapedPath then escapes
// the decoded path, turning a%2Fb"c into a/b%22c.
func instance(r *http.Request) string {
	p := requestPath(r)
	if pathIsReference(p) {
		return p
	}
	return makeReference(p)
}

// requestPath returns the path of r's request target as the client sent
// it: RequestURI up to the query when it is a path (origin form), else the
// escaped form of r.URL's path (absolute form, "*", or a request made in
// process without a RequestURI).
func requestPath(r *http.Request) string {
	if uri := r.RequestURI; uri != "" && uri[0] == '/' {
		if i := strings.IndexByte(uri, '?'); i >= 0 {
			uri = uri[:i]
		}
		return uri
	}
	return r.URL.EscapedPath()
}

// pathIsReference reports whether p is an RFC 3986 path that reads as a
// relative reference holding only a path.
func pathIsReference(p string) bool {
	if len(p) >= 2 && p[0] == '/' && p[1] == '/' || firstSegmentHasColon(p) {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '%' {
			if i+2 >= len(p) || !isHex(p[i+1]) || !isHex(p[i+2]) {
				return false
			}
			i += 2
			continue
		}
		if !isPathByte(c) {
			return false
		}
	}
	return true
}

// makeReference rewrites p as pathIsReference requires.
func makeReference(p string) string {
	const hexDigits = "0123456789ABCDEF"
	b := make([]byte, 0, len(p)+len(p)/2+2)
	switch {
	case len(p) >= 2 && p[0] == '/' && p[1] == '/':
		b = append(b, "/."...)
	case firstSegmentHasColon(p):
		b = append(b, "./"...)
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '%' && i+2 < len(p) && isHex(p[i+1]) && isHex(p[i+2]):
			b = append(b, p[i:i+3]...)
			i += 2
		case c != '%' && isPathByte(c):
			b = append(b, c)
		default:
			b = append(b, '%', hexDigits[c>>4], hexDigits[c&15])
		}
	}
	return string(b)
}

// firstSegmentHasColon reports whether p is a relative path whose first
// segment holds a ':', which a URI parser would read as a scheme.
func firstSegmentHasColon(p string) bool {
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '/':
			return false
		case ':':
			return true
		}
	}
	return false
}

// isPathByte reports whether c may appear literally in an RFC 3986 path:
// unreserved, sub-delims, ':', '@' and '/'.
func isPathByte(c byte) bool { return pathBytes[c] }

// pathBytes is the table of isPathByte, read-only once built; a table
// because every error response of the problem envelope scans its path.
var pathBytes = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range "-._~" + "!$&'()*+,;=" + ":@/" { // unreserved, sub-delims, pchar, path
		t[c] = true
	}
	return t
}()

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
