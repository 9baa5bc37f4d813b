package ratelimit

import (
	"net"
	"net/http"

	chimw "github.com/go-chi/chi/v5/middleware"

	"github.com/faultline-go/faultline/middleware"
)

// ClientKey is the default bucket key of a request: the key id of the
// principal that middleware.KeyAuth authenticated or, without one, the
// client IP that chi's middleware.ClientIP* set (they trust only the
// proxies they are given), else the TCP peer address. X-Forwarded-For is
// never read here. Key ids and addresses share one key space, so key ids
// must not be IP addresses.
func ClientKey(r *http.Request) string {
	return clientKey(r, middleware.PrincipalFromContext(r.Context()))
}

// clientKey is ClientKey for the principal p the caller has looked up.
func clientKey(r *http.Request, p *middleware.Principal) string {
	if p != nil {
		return p.KeyID
	}
	if ip := chimw.GetClientIPAddr(r.Context()); ip.IsValid() {
		return ip.String()
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
