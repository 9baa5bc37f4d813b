package ratelimit_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	chimw "github.com/go-chi/chi/v5/middleware"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/middleware"
	"github.com/faultline-go/faultline/ratelimit"
)

// ClientKey is the principal's key id, else the client IP chi's ClientIP
// middleware trusted, else the TCP peer's host; X-Forwarded-For alone is
// never read.
func TestClientKey(t *testing.T) {
	keys, err := middleware.NewStaticKeys(middleware.KeyPair{Key: "key-1", Secret: "secret-1"})
	require.NoError(t, err, "NewStaticKeys")
	for _, tc := range []struct {
		name       string
		mw         func(http.Handler) http.Handler
		remoteAddr string
		header     map[string]string
		want       string
	}{
		{"principal", middleware.KeyAuth(keys), "192.0.2.1:1234", nil, "key-1"},
		{"trusted proxy", chimw.ClientIPFromXFF("10.0.0.0/8"), "10.0.0.1:1234", map[string]string{"X-Forwarded-For": "203.0.113.7"}, "203.0.113.7"},
		{"untrusted X-Forwarded-For", nil, "192.0.2.1:1234", map[string]string{"X-Forwarded-For": "203.0.113.7"}, "192.0.2.1"},
		{"IPv6 peer", nil, "[2001:db8::1]:443", nil, "2001:db8::1"},
		{"peer without a port", nil, "pipe", nil, "pipe"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got string
			var h http.Handler = http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got = ratelimit.ClientKey(r) })
			if tc.mw != nil {
				h = tc.mw(h)
			}
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.RemoteAddr = tc.remoteAddr
			req.SetBasicAuth("key-1", "secret-1") // read only by KeyAuth
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			h.ServeHTTP(httptest.NewRecorder(), req)
			assert.Equal(t, tc.want, got, "ClientKey(%s)", tc.name)
		})
	}
}
