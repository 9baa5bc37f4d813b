package middleware

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/faultline-go/faultline/catalog"
	"github.com/faultline-go/faultline/internal/reqctx"
	"github.com/faultline-go/faultline/problem"
)

// Header names of Basic key-pair authentication.
const (
	HeaderAuthorization   = "Authorization"
	HeaderWWWAuthenticate = "WWW-Authenticate"
)

// DefaultRealm is the realm KeyAuth announces, and NewKeyAuth when
// KeyAuthConfig.Realm is empty.
const DefaultRealm = "api"

// MaxAuthorizationLen is the longest Authorization header value ParseBasic
// accepts, in bytes. Longer values are malformed before any decoding.
const MaxAuthorizationLen = 4096

// Errors of key-pair authentication. None of them, nor any error wrapping
// them in this package, contains a presented or configured secret.
var (
	// ErrMissingCredentials is returned by ParseBasic for an empty header.
	ErrMissingCredentials = errors.New("middleware: missing credentials")
	// ErrMalformedCredentials is returned by ParseBasic for a header that is
	// not valid Basic credentials.
	ErrMalformedCredentials = errors.New("middleware: malformed credentials")
	// ErrInvalidCredentials is returned by an Authenticator for an unknown
	// key or a wrong secret, which it must not tell apart.
	ErrInvalidCredentials = errors.New("middleware: invalid credentials")
	// ErrInvalidKeyPair is returned, wrapped, by NewStaticKeys for a key
	// pair it cannot hold.
	ErrInvalidKeyPair = errors.New("middleware: invalid key pair")
	// ErrInvalidAuthConfig is returned, wrapped, by NewKeyAuth for an
	// invalid KeyAuthConfig.
	ErrInvalidAuthConfig = errors.New("middleware: invalid key auth config")
)

// errNoPrincipal stands for an Authenticator that returned neither a
// principal nor an error; it is answered as a sanitized 500.
var errNoPrincipal = errors.New("middleware: Authenticator returned a nil principal and a nil error")

// Principal is an authenticated caller: who it is, and the attributes a
// service maps to what it may do. It says nothing of limits itself: the
// rate limiter (package ratelimit) reads it from the request and maps its
// Environment or Plan to a policy.
type Principal struct {
	// KeyID is the key the caller authenticated with. It is an identifier,
	// not a secret.
	KeyID string
	// Environment is the deployment environment the key belongs to, such
	// as "sandbox" or "production".
	Environment string
	// Plan is the caller's plan or tier ("free", "gold"), if the service
	// has such a thing; empty otherwise.
	Plan string
}

// PrincipalFromContext returns the principal KeyAuth authenticated for the
// request whose context is ctx, or nil when there is none.
func PrincipalFromContext(ctx context.Context) *Principal {
	if st := reqctx.From(ctx); st != nil {
		p, _ := st.Principal.(*Principal)
		return p
	}
	return nil
}

// Authenticator checks a key and its secret. It returns
// ErrInvalidCredentials (possibly wrapped) when the key is unknown or the
// secret wrong, and should take the same time for both. Any other error is a
// failure to decide: KeyAuth hands it to problem.Write, which answers a
// *problem.Error as it says and anything else as a sanitized 500 whose log
// record carries the error text, so that text must never contain the secret.
type Authenticator interface {
	Authenticate(ctx context.Context, key, secret string) (*Principal, error)
}

// KeyPair is one API key, its secret and what authenticating with it grants.
type KeyPair struct {
	// Key is the public key id, sent as the Basic user name. It must not
	// be empty, nor contain a colon or control characters.
	Key string
	// Secret is the key's secret, sent as the Basic password. It must not
	// be empty, nor contain control characters. It should be a long random
	// string: StaticKeys hashes it with one fast salted SHA-256, which
	// suits machine-generated secrets, not human-chosen passwords.
	Secret string
	// Environment becomes Principal.Environment.
	Environment string
	// Plan becomes Principal.Plan.
	Plan string
}

// saltLen is the length of a StaticKeys salt.
const saltLen = 32

// stackSecretLen is the longest secret hashed in a stack buffer; longer
// secrets go through a heap-allocated hash.Hash.
const stackSecretLen = 480

// StaticKeys is an Authenticator over a fixed set of key pairs. It keeps a
// salted SHA-256 hash of each secret, never the secret itself, and checks
// a secret in constant time. It is safe for concurrent use.
type StaticKeys struct {
	salt  [saltLen]byte      // random per store
	dummy [sha256.Size]byte  // random; compared against for unknown keys
	keys  map[string]keyHash // by key id; never modified after NewStaticKeys
}

// keyHash is one key's secret hash and the principal it authenticates.
type keyHash struct {
	hash      [sha256.Size]byte
	principal *Principal // shared by every request; never modified
}

var _ Authenticator = (*StaticKeys)(nil)

// NewStaticKeys returns a StaticKeys holding pairs. An empty key or secret,
// a key with a colon, control characters in a key or secret or a key given
// twice fail with an error wrapping ErrInvalidKeyPair;
// the error names the key, never the secret.
func NewStaticKeys(pairs ...KeyPair) (*StaticKeys, error) {
	s := &StaticKeys{keys: make(map[string]keyHash, len(pairs))}
	// crypto/rand.Read never fails: it crashes the program rather than
	// return fewer random bytes.
	_, _ = rand.Read(s.salt[:])
	_, _ = rand.Read(s.dummy[:])
	for i, kp := range pairs {
		switch {
		case kp.Key == "":
			return nil, fmt.Errorf("%w: pair %d has an empty key", ErrInvalidKeyPair, i)
		case strings.IndexByte(kp.Key, ':') >= 0:
			return nil, fmt.Errorf("%w: key %q contains a colon", ErrInvalidKeyPair, kp.Key)
		case hasControl(kp.Key):
			return nil, fmt.Errorf("%w: key %q contains a control character", ErrInvalidKeyPair, kp.Key)
		case kp.Secret == "":
			return nil, fmt.Errorf("%w: key %q has an empty secret", ErrInvalidKeyPair, kp.Key)
		case hasControl(kp.Secret):
			return nil, fmt.Errorf("%w: the secret of key %q contains a control character", ErrInvalidKeyPair, kp.Key)
		}
		if _, dup := s.keys[kp.Key]; dup {
			return nil, fmt.Errorf("%w: key %q given twice", ErrInvalidKeyPair, kp.Key)
		}
		p := &Principal{KeyID: kp.Key, Environment: kp.Environment, Plan: kp.Plan}
		s.keys[kp.Key] = keyHash{hash: s.hash(kp.Secret), principal: p}
	}
	return s, nil
}

// Authenticate returns the principal of key when secret is its secret, and
// ErrInvalidCredentials otherwise. The returned Principal is shared by every
// request of the key and must not be modified.
//
// An unknown key and a wrong secret take the same path: the presented
// secret is hashed and compared, in constant time, with a stored hash (a
// dummy one for an unknown key), and only then is the outcome decided.
func (s *StaticKeys) Authenticate(_ context.Context, key, secret string) (*Principal, error) {
	kh, found := s.keys[key]
	want := &s.dummy
	if found {
		want = &kh.hash
	}
	got := s.hash(secret)
	match := subtle.ConstantTimeCompare(got[:], want[:]) == 1
	if !found || !match {
		return nil, ErrInvalidCredentials
	}
	return kh.principal, nil
}

// hash returns SHA-256(salt || secret), without allocating for secrets of up
// to stackSecretLen bytes.
func (s *StaticKeys) hash(secret string) [sha256.Size]byte {
	if len(secret) <= stackSecretLen {
		var buf [saltLen + stackSecretLen]byte
		copy(buf[:], s.salt[:])
		n := copy(buf[saltLen:], secret)
		return sha256.Sum256(buf[:saltLen+n])
	}
	h := sha256.New()
	h.Write(s.salt[:])
	_, _ = io.WriteString(h, secret)
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}

// hasControl reports whether s holds an ASCII control character (below
// 0x20, or DEL).
func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			return true
		}
	}
	return false
}

// basicScheme is the scheme ParseBasic accepts, in any case.
const basicScheme = "Basic"

// stackDecodeLen is the longest decoded credential ParseBasic decodes in a
// stack buffer.
const stackDecodeLen = 256

// ParseBasic parses the value of an Authorization header carrying Basic
// credentials (RFC 7617): the scheme "Basic" in any case, one or more
// spaces, and the base64 (standard alphabet, padded or not) encoding of
// key ":" secret. The key ends at the first colon, so a secret may contain
// colons.
//
// An empty header fails with ErrMissingCredentials. Anything else that is
// not such credentials fails with ErrMalformedCredentials: a value longer
// than MaxAuthorizationLen (checked before decoding), another scheme, a
// missing token, characters outside the base64 alphabet (surrounding
// whitespace included), bad base64, no colon, an empty key or secret, or an
// ASCII control character in the key or the secret. The errors never contain
// the header or any part of it.
func ParseBasic(header string) (key, secret string, err error) {
	if header == "" {
		return "", "", ErrMissingCredentials
	}
	if len(header) > MaxAuthorizationLen ||
		len(header) < len(basicScheme)+2 ||
		!strings.EqualFold(header[:len(basicScheme)], basicScheme) ||
		header[len(basicScheme)] != ' ' {
		return "", "", ErrMalformedCredentials
	}
	token := strings.TrimLeft(header[len(basicScheme)+1:], " ")
	if token == "" || !base64Token(token) {
		return "", "", ErrMalformedCredentials
	}
	enc := base64.StdEncoding
	if len(token)%4 != 0 {
		enc = base64.RawStdEncoding
	}
	var stack [stackDecodeLen]byte
	buf := stack[:]
	if n := enc.DecodedLen(len(token)); n > len(buf) {
		buf = make([]byte, n)
	}
	n, err := enc.Decode(buf, []byte(token))
	if err != nil {
		return "", "", ErrMalformedCredentials
	}
	buf = buf[:n]
	colon := -1
	for i, c := range buf {
		if c < 0x20 || c == 0x7f {
			return "", "", ErrMalformedCredentials
		}
		if c == ':' && colon < 0 {
			colon = i
		}
	}
	if colon <= 0 || colon == len(buf)-1 {
		return "", "", ErrMalformedCredentials
	}
	s := string(buf)
	return s[:colon], s[colon+1:], nil
}

// base64Token reports whether s holds only characters of the standard
// base64 alphabet and its padding. It keeps the decoder from skipping the
// CR and LF it otherwise ignores.
func base64Token(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/' || c == '=') {
			return false
		}
	}
	return true
}

// KeyAuthConfig configures NewKeyAuth.
type KeyAuthConfig struct {
	// Authenticator checks the presented key pairs. It is required.
	Authenticator Authenticator
	// Realm is announced in the WWW-Authenticate header of every 401:
	// printable ASCII without '"' or '\'. Empty means DefaultRealm.
	Realm string
}

// KeyAuth is NewKeyAuth with a and DefaultRealm. It panics if a is nil.
func KeyAuth(a Authenticator) func(http.Handler) http.Handler {
	mw, err := NewKeyAuth(KeyAuthConfig{Authenticator: a})
	if err != nil {
		panic(err)
	}
	return mw
}

// NewKeyAuth returns middleware that authenticates every request by the
// key pair in its Basic Authorization header (see ParseBasic), puts the
// *Principal into the request state (PrincipalFromContext) and calls the
// next handler. A request that fails is answered through problem.Write:
//
//   - no Authorization header, or an empty one: 401 MISSING_AUTHORIZATION;
//   - more than one Authorization header, or one that is not well-formed
//     Basic credentials: 401 MALFORMED_CREDENTIALS;
//   - ErrInvalidCredentials from the Authenticator: 401 INVALID_CREDENTIALS;
//   - any other Authenticator error is written as it is: a *problem.Error as
//     it says, anything else as a sanitized 500.
//
// Every 401 carries WWW-Authenticate: Basic realm="<realm>", charset="UTF-8".
// No response or log record names the presented key or secret. A nil
// Authenticator or an invalid realm fails with an error wrapping
// ErrInvalidAuthConfig.
func NewKeyAuth(cfg KeyAuthConfig) (func(http.Handler) http.Handler, error) {
	if cfg.Authenticator == nil {
		return nil, fmt.Errorf("%w: nil Authenticator", ErrInvalidAuthConfig)
	}
	realm := cfg.Realm
	if realm == "" {
		realm = DefaultRealm
	}
	for i := 0; i < len(realm); i++ {
		if c := realm[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return nil, fmt.Errorf("%w: realm %q: want printable ASCII without '\"' or '\\'", ErrInvalidAuthConfig, realm)
		}
	}
	// The 401s are built once and shared: the renderer only reads them,
	// and copies the challenge header's value slice into each response.
	challenge := http.Header{}
	challenge.Set(HeaderWWWAuthenticate, `Basic realm="`+realm+`", charset="UTF-8"`)
	var (
		missing   = &problem.Error{Code: catalog.MissingAuthorization, Header: challenge}
		malformed = &problem.Error{Code: catalog.MalformedCredentials, Header: challenge}
		invalid   = &problem.Error{Code: catalog.InvalidCredentials, Header: challenge}
	)
	a := cfg.Authenticator
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			values := r.Header[HeaderAuthorization]
			if len(values) == 0 {
				problem.Write(w, r, missing)
				return
			}
			if len(values) > 1 {
				problem.Write(w, r, malformed)
				return
			}
			key, secret, err := ParseBasic(values[0])
			if err != nil {
				if err == ErrMissingCredentials {
					problem.Write(w, r, missing)
				} else {
					problem.Write(w, r, malformed)
				}
				return
			}
			p, err := a.Authenticate(r.Context(), key, secret)
			switch {
			case errors.Is(err, ErrInvalidCredentials):
				problem.Write(w, r, invalid)
				return
			case err != nil:
				problem.Write(w, r, err)
				return
			case p == nil:
				problem.Write(w, r, errNoPrincipal)
				return
			}
			st, r := reqctx.Ensure(r)
			st.Principal = p
			next.ServeHTTP(w, r)
		})
	}, nil
}
