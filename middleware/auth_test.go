package middleware_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/catalog"
	"github.com/faultline-go/faultline/internal/reqctx"
	"github.com/faultline-go/faultline/middleware"
	"github.com/faultline-go/faultline/problem"
)

// Test credentials. They are distinctive so that a leak into a response or a
// log record cannot hide.
const (
	authKey    = "ak_live_4f9c2e"
	authSecret = "sk_live_Q7v1xZ3pL9mWq2"
	authEnv    = "production"
	authPrefix = "BLUM"
	// authChallenge is the WWW-Authenticate value of every 401 under the
	// default realm.
	authChallenge = `Basic realm="api", charset="UTF-8"`
)

// authPlan is the plan of authKey.
const authPlan = "gold"

// authEnvelopes are the built-in envelopes every auth failure is checked in.
var authEnvelopes = []string{problem.EnvelopeFlat, problem.EnvelopeGoogle, problem.EnvelopeTracked, problem.EnvelopeProblem}

// authBasic returns the Basic Authorization value for credentials, the
// standard way: padded standard base64 of key:secret.
func authBasic(credentials string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(credentials))
}

// authLongHeader returns valid Basic credentials for authKey and a long
// secret, padded with spaces after the scheme to exactly n bytes.
func authLongHeader(t testing.TB, n int) (header, secret string) {
	t.Helper()
	secret = strings.Repeat("s", 2400)
	token := base64.StdEncoding.EncodeToString([]byte(authKey + ":" + secret))
	spaces := n - len("Basic") - len(token)
	require.GreaterOrEqual(t, spaces, 1, "authLongHeader(%d): too short for the token", n)
	return "Basic" + strings.Repeat(" ", spaces) + token, secret
}

// authStore returns a StaticKeys holding authKey.
func authStore(t testing.TB) *middleware.StaticKeys {
	t.Helper()
	s, err := middleware.NewStaticKeys(
		middleware.KeyPair{Key: authKey, Secret: authSecret, Environment: authEnv, Plan: authPlan},
		middleware.KeyPair{Key: "ak_test_0b1d", Secret: "sk_test_other", Environment: "sandbox"},
	)
	require.NoError(t, err, "NewStaticKeys")
	return s
}

// authRenderer returns a renderer for env, with flat codes under authPrefix,
// that logs every error response as JSON into the returned buffer.
func authRenderer(t testing.TB, env string) (*problem.Renderer, *bytes.Buffer) {
	t.Helper()
	logs := new(bytes.Buffer)
	rd, err := problem.NewRenderer(problem.Config{
		Envelope:         env,
		Prefix:           authPrefix,
		Logger:           slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		ClientErrorLevel: slog.LevelDebug,
	})
	require.NoError(t, err, "problem.NewRenderer(%q)", env)
	return rd, logs
}

// authFunc adapts a function to middleware.Authenticator.
type authFunc func(ctx context.Context, key, secret string) (*middleware.Principal, error)

func (f authFunc) Authenticate(ctx context.Context, key, secret string) (*middleware.Principal, error) {
	return f(ctx, key, secret)
}

// authServe sends a GET carrying the given Authorization values (none when
// nil) through h.
func authServe(h http.Handler, authorization ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, "/v1/orders", nil)
	for _, v := range authorization {
		req.Header.Add(middleware.HeaderAuthorization, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// authCode returns the code and message of an error body in envelope env:
// the flat code, the google status, the tracked code or the problem code.
func authCode(t testing.TB, env string, body []byte) (code, message string) {
	t.Helper()
	var v struct {
		Code    any    `json:"code"`
		Message string `json:"message"`
		Detail  string `json:"detail"`
		Error   struct {
			Code    any    `json:"code"`
			Status  string `json:"status"`
			Message string `json:"message"`
		} `json:"error"`
	}
	require.NoError(t, json.Unmarshal(body, &v), "%s body %s", env, body)
	switch env {
	case problem.EnvelopeFlat:
		code, message = fmt.Sprint(v.Code), v.Message
	case problem.EnvelopeGoogle:
		code, message = v.Error.Status, v.Error.Message
	case problem.EnvelopeTracked:
		code, message = fmt.Sprint(v.Error.Code), v.Error.Message
	case problem.EnvelopeProblem:
		code, message = fmt.Sprint(v.Code), v.Detail
	default:
		t.Fatalf("authCode: unknown envelope %q", env)
	}
	return code, message
}

func TestKeyAuthFailures(t *testing.T) {
	longBad, longSecret := authLongHeader(t, middleware.MaxAuthorizationLen+1)
	good := authBasic(authKey + ":" + authSecret)
	cases := []struct {
		name   string
		header []string // Authorization values; none when nil
		code   string   // catalog name
		flat   string   // flat code under authPrefix
		secret string   // what must not leak, besides authKey and authSecret
	}{
		{name: "no header", code: catalog.MissingAuthorization, flat: "BLUM-401-001"},
		{name: "empty header", header: []string{""}, code: catalog.MissingAuthorization, flat: "BLUM-401-001"},
		{name: "two headers", header: []string{good, good}, code: catalog.MalformedCredentials, flat: "BLUM-401-002"},
		{name: "bearer scheme", header: []string{"Bearer " + authSecret}, code: catalog.MalformedCredentials, flat: "BLUM-401-002"},
		{name: "bad base64", header: []string{"Basic " + authKey + ":" + authSecret}, code: catalog.MalformedCredentials, flat: "BLUM-401-002"},
		{name: "no colon", header: []string{authBasic(authKey + authSecret)}, code: catalog.MalformedCredentials, flat: "BLUM-401-002"},
		{name: "empty key", header: []string{authBasic(":" + authSecret)}, code: catalog.MalformedCredentials, flat: "BLUM-401-002"},
		{name: "empty secret", header: []string{authBasic(authKey + ":")}, code: catalog.MalformedCredentials, flat: "BLUM-401-002"},
		{name: "control character", header: []string{authBasic(authKey + ":" + authSecret + "\x00")}, code: catalog.MalformedCredentials, flat: "BLUM-401-002"},
		{name: "header over 4 KiB", header: []string{longBad}, code: catalog.MalformedCredentials, flat: "BLUM-401-002", secret: longSecret},
		{name: "unknown key", header: []string{authBasic("ak_live_nobody:" + authSecret)}, code: catalog.InvalidCredentials, flat: "BLUM-401-003"},
		{name: "wrong secret", header: []string{authBasic(authKey + ":" + authSecret + "x")}, code: catalog.InvalidCredentials, flat: "BLUM-401-003"},
		{name: "secret of another key", header: []string{authBasic(authKey + ":sk_test_other")}, code: catalog.InvalidCredentials, flat: "BLUM-401-003", secret: "sk_test_other"},
	}
	messages := map[string]string{
		catalog.MissingAuthorization: "Missing authorization.",
		catalog.MalformedCredentials: "Malformed credentials.",
		catalog.InvalidCredentials:   "Invalid credentials.",
	}
	store := authStore(t)
	for _, env := range authEnvelopes {
		for _, tc := range cases {
			t.Run(env+"/"+tc.name, func(t *testing.T) {
				rd, logs := authRenderer(t, env)
				called := false
				h := middleware.RequestID(middleware.Recover(rd)(middleware.KeyAuth(store)(
					http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true }))))
				rec := authServe(h, tc.header...)

				require.Equal(t, http.StatusUnauthorized, rec.Code, "KeyAuth(%q) status = %d, want 401; body %s", tc.header, rec.Code, rec.Body)
				assert.False(t, called, "KeyAuth(%q) called the next handler", tc.header)
				assert.Equal(t, []string{authChallenge}, rec.Header().Values(middleware.HeaderWWWAuthenticate),
					"KeyAuth(%q) %s = %q, want %q", tc.header, middleware.HeaderWWWAuthenticate, rec.Header().Values(middleware.HeaderWWWAuthenticate), authChallenge)

				want := map[string]string{
					problem.EnvelopeFlat:    tc.flat,
					problem.EnvelopeGoogle:  tc.code,
					problem.EnvelopeTracked: "UNAUTHORIZED",
					problem.EnvelopeProblem: tc.code,
				}[env]
				code, msg := authCode(t, env, rec.Body.Bytes())
				assert.Equal(t, want, code, "KeyAuth(%q) %s code = %q, want %q; body %s", tc.header, env, code, want, rec.Body)
				assert.Equal(t, messages[tc.code], msg, "KeyAuth(%q) %s message = %q, want %q", tc.header, env, msg, messages[tc.code])

				log := logs.String()
				require.Contains(t, log, `"code":"`+tc.code+`"`, "KeyAuth(%q) log = %s, want a record of %s", tc.header, log, tc.code)
				leaks := []string{authSecret, authKey}
				if tc.secret != "" {
					leaks = append(leaks, tc.secret)
				}
				for _, v := range tc.header {
					if v != "" {
						leaks = append(leaks, v, strings.TrimSpace(strings.TrimPrefix(v, "Basic")))
					}
				}
				for _, s := range leaks {
					assert.NotContains(t, rec.Body.String(), s, "KeyAuth(%q) body leaks %.40q", tc.header, s)
					assert.NotContains(t, log, s, "KeyAuth(%q) log leaks %.40q", tc.header, s)
				}
			})
		}
	}
}

func TestKeyAuthSuccess(t *testing.T) {
	store := authStore(t)
	rd, _ := authRenderer(t, problem.EnvelopeFlat)
	stacks := []struct {
		name string
		wrap func(http.Handler) http.Handler
	}{
		{"bare", func(h http.Handler) http.Handler { return middleware.KeyAuth(store)(h) }},
		{"full stack", func(h http.Handler) http.Handler {
			return middleware.RequestID(middleware.Recover(rd)(middleware.KeyAuth(store)(h)))
		}},
	}
	headers := []struct {
		name   string
		header string
	}{
		{"standard", authBasic(authKey + ":" + authSecret)},
		{"lowercase scheme, raw base64", "basic  " + base64.RawStdEncoding.EncodeToString([]byte(authKey+":"+authSecret))},
	}
	for _, st := range stacks {
		for _, hd := range headers {
			t.Run(st.name+"/"+hd.name, func(t *testing.T) {
				var got *middleware.Principal
				h := st.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					got = middleware.PrincipalFromContext(r.Context())
					w.WriteHeader(http.StatusNoContent)
				}))
				rec := authServe(h, hd.header)
				require.Equal(t, http.StatusNoContent, rec.Code, "KeyAuth(%q) status = %d, want 204; body %s", hd.header, rec.Code, rec.Body)
				assert.Empty(t, rec.Header().Values(middleware.HeaderWWWAuthenticate), "KeyAuth(%q) set %s on success", hd.header, middleware.HeaderWWWAuthenticate)
				require.NotNil(t, got, "PrincipalFromContext(ctx) = nil, want the principal of %s", authKey)
				assert.Equal(t, authKey, got.KeyID, "PrincipalFromContext(ctx).KeyID = %q, want %q", got.KeyID, authKey)
				assert.Equal(t, authEnv, got.Environment, "PrincipalFromContext(ctx).Environment = %q, want %q", got.Environment, authEnv)
				assert.Equal(t, authPlan, got.Plan, "PrincipalFromContext(ctx).Plan = %q, want %q", got.Plan, authPlan)
			})
		}
	}
}

// TestKeyAuthPassesRequestToAuthenticator checks what the Authenticator sees:
// the request's context, and the key and secret as sent.
func TestKeyAuthPassesRequestToAuthenticator(t *testing.T) {
	type ctxKey struct{}
	var gotKey, gotSecret string
	var gotValue any
	a := authFunc(func(ctx context.Context, key, secret string) (*middleware.Principal, error) {
		gotKey, gotSecret, gotValue = key, secret, ctx.Value(ctxKey{})
		return &middleware.Principal{KeyID: key}, nil
	})
	h := middleware.KeyAuth(a)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req = req.WithContext(context.WithValue(req.Context(), ctxKey{}, "marker"))
	req.SetBasicAuth("k", "se:cret")
	h.ServeHTTP(httptest.NewRecorder(), req)
	assert.Equal(t, "k", gotKey, "Authenticate key = %q, want %q", gotKey, "k")
	assert.Equal(t, "se:cret", gotSecret, "Authenticate secret = %q, want %q", gotSecret, "se:cret")
	assert.Equal(t, "marker", gotValue, "Authenticate ctx value = %v, want the request context's", gotValue)
}

func TestKeyAuthAuthenticatorErrors(t *testing.T) {
	const cause = "directory: dial tcp 10.0.0.7:389: connection refused"
	cases := []struct {
		name     string
		err      error
		status   int
		code     string // catalog name; "" for a sanitized 500
		internal bool
	}{
		{name: "plain error", err: errors.New(cause), status: http.StatusInternalServerError, internal: true},
		{name: "nil principal and nil error", err: nil, status: http.StatusInternalServerError, internal: true},
		{name: "wrapped invalid credentials", err: fmt.Errorf("directory: %w", middleware.ErrInvalidCredentials), status: http.StatusUnauthorized, code: catalog.InvalidCredentials},
		{name: "problem error", err: problem.New(catalog.PermissionDenied, "The key is revoked."), status: http.StatusForbidden, code: catalog.PermissionDenied},
	}
	for _, env := range authEnvelopes {
		for _, tc := range cases {
			t.Run(env+"/"+tc.name, func(t *testing.T) {
				rd, logs := authRenderer(t, env)
				a := authFunc(func(context.Context, string, string) (*middleware.Principal, error) { return nil, tc.err })
				called := false
				h := middleware.Recover(rd)(middleware.KeyAuth(a)(
					http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true })))
				rec := authServe(h, authBasic(authKey+":"+authSecret))

				require.Equal(t, tc.status, rec.Code, "KeyAuth(Authenticate = %v) status = %d, want %d; body %s", tc.err, rec.Code, tc.status, rec.Body)
				assert.False(t, called, "KeyAuth(Authenticate = %v) called the next handler", tc.err)
				body, log := rec.Body.String(), logs.String()
				if tc.internal {
					assert.Contains(t, body, "exc_", "KeyAuth(Authenticate = %v) body = %s, want an exc_ id", tc.err, body)
					assert.NotContains(t, body, "connection refused", "KeyAuth(Authenticate = %v) body leaks the cause", tc.err)
					assert.Contains(t, log, `"level":"ERROR"`, "KeyAuth(Authenticate = %v) log = %s, want an ERROR record", tc.err, log)
					assert.Empty(t, rec.Header().Values(middleware.HeaderWWWAuthenticate), "KeyAuth(Authenticate = %v) sent a challenge with a 500", tc.err)
					if tc.err != nil {
						assert.Contains(t, log, "connection refused", "KeyAuth(Authenticate = %v) log = %s, want the cause", tc.err, log)
					}
				} else {
					assert.Contains(t, log, `"code":"`+tc.code+`"`, "KeyAuth(Authenticate = %v) log = %s, want a record of %s", tc.err, log, tc.code)
				}
				if tc.status == http.StatusUnauthorized {
					assert.Equal(t, authChallenge, rec.Header().Get(middleware.HeaderWWWAuthenticate), "KeyAuth(Authenticate = %v) challenge", tc.err)
				}
				for _, s := range []string{authKey, authSecret} {
					assert.NotContains(t, body, s, "KeyAuth(Authenticate = %v) body leaks %q", tc.err, s)
					assert.NotContains(t, log, s, "KeyAuth(Authenticate = %v) log leaks %q", tc.err, s)
				}
			})
		}
	}
}

func TestNewKeyAuth(t *testing.T) {
	store := authStore(t)
	cases := []struct {
		name      string
		cfg       middleware.KeyAuthConfig
		challenge string
		wantErr   bool
	}{
		{name: "default realm", cfg: middleware.KeyAuthConfig{Authenticator: store}, challenge: authChallenge},
		{name: "custom realm", cfg: middleware.KeyAuthConfig{Authenticator: store, Realm: "orders v1 (sandbox)"}, challenge: `Basic realm="orders v1 (sandbox)", charset="UTF-8"`},
		{name: "nil authenticator", cfg: middleware.KeyAuthConfig{Realm: "api"}, wantErr: true},
		{name: "quote in realm", cfg: middleware.KeyAuthConfig{Authenticator: store, Realm: `a"b`}, wantErr: true},
		{name: "backslash in realm", cfg: middleware.KeyAuthConfig{Authenticator: store, Realm: `a\b`}, wantErr: true},
		{name: "newline in realm", cfg: middleware.KeyAuthConfig{Authenticator: store, Realm: "a\nb"}, wantErr: true},
		{name: "DEL in realm", cfg: middleware.KeyAuthConfig{Authenticator: store, Realm: "a\x7fb"}, wantErr: true},
		{name: "non-ASCII realm", cfg: middleware.KeyAuthConfig{Authenticator: store, Realm: "café"}, wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mw, err := middleware.NewKeyAuth(tc.cfg)
			if tc.wantErr {
				require.ErrorIs(t, err, middleware.ErrInvalidAuthConfig, "NewKeyAuth(%+v) = %v, want %v", tc.cfg, err, middleware.ErrInvalidAuthConfig)
				assert.Nil(t, mw, "NewKeyAuth(%+v) returned middleware with an error", tc.cfg)
				return
			}
			require.NoError(t, err, "NewKeyAuth(%+v)", tc.cfg)
			rd, _ := authRenderer(t, problem.EnvelopeFlat)
			rec := authServe(middleware.Recover(rd)(mw(http.NotFoundHandler())))
			require.Equal(t, http.StatusUnauthorized, rec.Code, "NewKeyAuth(%+v) status = %d, want 401", tc.cfg, rec.Code)
			assert.Equal(t, tc.challenge, rec.Header().Get(middleware.HeaderWWWAuthenticate),
				"NewKeyAuth(%+v) %s = %q, want %q", tc.cfg, middleware.HeaderWWWAuthenticate, rec.Header().Get(middleware.HeaderWWWAuthenticate), tc.challenge)
		})
	}
}

func TestKeyAuthNilAuthenticatorPanics(t *testing.T) {
	require.PanicsWithError(t, "middleware: invalid key auth config: nil Authenticator",
		func() { middleware.KeyAuth(nil) }, "KeyAuth(nil)")
}

func TestPrincipalFromContext(t *testing.T) {
	p := &middleware.Principal{KeyID: authKey}
	withState := func(v any) context.Context {
		st, ctx := reqctx.EnsureContext(context.Background())
		st.Principal = v
		return ctx
	}
	cases := []struct {
		name string
		ctx  context.Context
		want *middleware.Principal
	}{
		{"no state", context.Background(), nil},
		{"no principal", withState(nil), nil},
		{"principal of another type", withState("ak_other"), nil},
		{"principal", withState(p), p},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := middleware.PrincipalFromContext(tc.ctx)
			assert.Same(t, tc.want, got, "PrincipalFromContext(%s) = %v, want %v", tc.name, got, tc.want)
		})
	}
}

func BenchmarkKeyAuth(b *testing.B) {
	store := authStore(b)
	rd := problem.MustRenderer(problem.Config{Envelope: problem.EnvelopeFlat, Prefix: authPrefix, Logger: slog.New(slog.DiscardHandler)})
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	good := authBasic(authKey + ":" + authSecret)
	bad := authBasic(authKey + ":" + authSecret + "x")
	for _, bc := range []struct {
		name   string
		h      http.Handler
		header string
		status int
	}{
		{"baseline recorder and handler", ok, good, http.StatusNoContent},
		{"success", middleware.KeyAuth(store)(ok), good, http.StatusNoContent},
		{"success under Recover", middleware.Recover(rd)(middleware.KeyAuth(store)(ok)), good, http.StatusNoContent},
		{"invalid credentials under Recover", middleware.Recover(rd)(middleware.KeyAuth(store)(ok)), bad, http.StatusUnauthorized},
	} {
		req := httptest.NewRequest(http.MethodGet, "/v1/orders", nil)
		req.Header.Set(middleware.HeaderAuthorization, bc.header)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				bc.h.ServeHTTP(rec, req)
				if rec.Code != bc.status {
					b.Fatalf("status = %d, want %d", rec.Code, bc.status)
				}
			}
		})
		b.Run(bc.name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					rec := httptest.NewRecorder()
					bc.h.ServeHTTP(rec, req)
					if rec.Code != bc.status {
						b.Errorf("status = %d, want %d", rec.Code, bc.status)
						return
					}
				}
			})
		})
	}
}
