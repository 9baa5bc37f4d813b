package middleware_test

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/middleware"
)

func TestParseBasic(t *testing.T) {
	longOK, longSecret := authLongHeader(t, middleware.MaxAuthorizationLen)
	longBad, _ := authLongHeader(t, middleware.MaxAuthorizationLen+1)
	cases := []struct {
		name       string
		header     string
		key        string
		secret     string
		wantErr    error
		wantSecret string // for error cases: must not show in the error text
	}{
		{name: "valid", header: authBasic("key:secret"), key: "key", secret: "secret"},
		{name: "lowercase scheme", header: "basic " + base64.StdEncoding.EncodeToString([]byte("key:secret")), key: "key", secret: "secret"},
		{name: "uppercase scheme", header: "BASIC " + base64.StdEncoding.EncodeToString([]byte("key:secret")), key: "key", secret: "secret"},
		{name: "extra spaces", header: "Basic    " + base64.StdEncoding.EncodeToString([]byte("key:secret")), key: "key", secret: "secret"},
		{name: "raw base64 without padding", header: "Basic " + base64.RawStdEncoding.EncodeToString([]byte("ab:cd")), key: "ab", secret: "cd"},
		{name: "no padding needed", header: authBasic("ab:c"), key: "ab", secret: "c"},
		{name: "secret with colons", header: authBasic("k:a:b"), key: "k", secret: "a:b"},
		{name: "unicode key", header: authBasic("ключ-🔑:sécret"), key: "ключ-🔑", secret: "sécret"},
		{name: "base64 plus and slash", header: "Basic " + base64.StdEncoding.EncodeToString([]byte("k:\xfb\xff\xbf")), key: "k", secret: "\xfb\xff\xbf"},
		{name: "4096-byte header", header: longOK, key: authKey, secret: longSecret},

		{name: "empty", header: "", wantErr: middleware.ErrMissingCredentials},
		{name: "bearer scheme", header: "Bearer " + authSecret, wantErr: middleware.ErrMalformedCredentials, wantSecret: authSecret},
		{name: "basic without token", header: "Basic", wantErr: middleware.ErrMalformedCredentials},
		{name: "basic and spaces only", header: "Basic   ", wantErr: middleware.ErrMalformedCredentials},
		{name: "no space after scheme", header: "Basic" + base64.StdEncoding.EncodeToString([]byte("k:s")), wantErr: middleware.ErrMalformedCredentials},
		{name: "tab after scheme", header: "Basic\t" + base64.StdEncoding.EncodeToString([]byte("k:s")), wantErr: middleware.ErrMalformedCredentials},
		{name: "scheme prefix", header: "Basically " + base64.StdEncoding.EncodeToString([]byte("k:s")), wantErr: middleware.ErrMalformedCredentials},
		{name: "bad base64", header: "Basic " + authSecret + "!", wantErr: middleware.ErrMalformedCredentials, wantSecret: authSecret},
		{name: "bad padding", header: "Basic YWI6Yw=", wantErr: middleware.ErrMalformedCredentials},
		{name: "padding inside", header: "Basic YQ==YQ==", wantErr: middleware.ErrMalformedCredentials},
		{name: "trailing newline", header: authBasic("k:s") + "\n", wantErr: middleware.ErrMalformedCredentials},
		{name: "trailing space", header: authBasic("k:s") + " ", wantErr: middleware.ErrMalformedCredentials},
		{name: "no colon", header: authBasic(authKey + authSecret), wantErr: middleware.ErrMalformedCredentials, wantSecret: authSecret},
		{name: "empty key", header: authBasic(":s"), wantErr: middleware.ErrMalformedCredentials},
		{name: "empty secret", header: authBasic("k:"), wantErr: middleware.ErrMalformedCredentials},
		{name: "colon only", header: authBasic(":"), wantErr: middleware.ErrMalformedCredentials},
		{name: "NUL in key", header: authBasic("k\x00y:s"), wantErr: middleware.ErrMalformedCredentials},
		{name: "LF in key", header: authBasic("k\ny:s"), wantErr: middleware.ErrMalformedCredentials},
		{name: "DEL in key", header: authBasic("k\x7fy:s"), wantErr: middleware.ErrMalformedCredentials},
		{name: "NUL in secret", header: authBasic("k:" + authSecret + "\x00"), wantErr: middleware.ErrMalformedCredentials, wantSecret: authSecret},
		{name: "LF in secret", header: authBasic("k:" + authSecret + "\n"), wantErr: middleware.ErrMalformedCredentials, wantSecret: authSecret},
		{name: "DEL in secret", header: authBasic("k:" + authSecret + "\x7f"), wantErr: middleware.ErrMalformedCredentials, wantSecret: authSecret},
		{name: "tab in secret", header: authBasic("k:a\tb"), wantErr: middleware.ErrMalformedCredentials},
		{name: "4097-byte header", header: longBad, wantErr: middleware.ErrMalformedCredentials, wantSecret: longSecret},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			key, secret, err := middleware.ParseBasic(tc.header)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr, "ParseBasic(%.60q) = %q, %q, %v, want error %v", tc.header, key, secret, err, tc.wantErr)
				assert.Empty(t, key+secret, "ParseBasic(%.60q) = %q, %q, %v, want empty key and secret with the error", tc.header, key, secret, err)
				if tc.wantSecret != "" {
					assert.NotContains(t, err.Error(), tc.wantSecret, "ParseBasic(%.60q) error text", tc.header)
				}
				if strings.TrimSpace(tc.header) != "" {
					assert.NotContains(t, err.Error(), tc.header, "ParseBasic(%.60q) error text", tc.header)
				}
				return
			}
			require.NoError(t, err, "ParseBasic(%.60q) = %q, %q, %v, want %q, %q, nil", tc.header, key, secret, err, tc.key, tc.secret)
			assert.Equal(t, tc.key, key, "ParseBasic(%.60q) key = %q, want %q", tc.header, key, tc.key)
			assert.Equal(t, tc.secret, secret, "ParseBasic(%.60q) secret = %q, want %q", tc.header, secret, tc.secret)
		})
	}
}

// TestParseBasicLengthCheckedFirst shows that the length limit comes before
// any decoding: valid credentials of 1 MiB are refused without a single
// allocation, where decoding them would need a buffer of 768 KiB.
func TestParseBasicLengthCheckedFirst(t *testing.T) {
	header := authBasic("k:" + strings.Repeat("s", 1<<20))
	var err error
	allocs := testing.AllocsPerRun(10, func() { _, _, err = middleware.ParseBasic(header) })
	require.ErrorIs(t, err, middleware.ErrMalformedCredentials, "ParseBasic(<%d bytes>) = %v, want %v", len(header), err, middleware.ErrMalformedCredentials)
	assert.Zero(t, allocs, "ParseBasic(<%d bytes>) allocs = %v, want 0", len(header), allocs)
}

func TestParseBasicAllocs(t *testing.T) {
	header := authBasic(authKey + ":" + authSecret)
	allocs := testing.AllocsPerRun(100, func() {
		if _, _, err := middleware.ParseBasic(header); err != nil {
			t.Fatal(err)
		}
	})
	// One allocation: the string holding key and secret.
	assert.LessOrEqual(t, allocs, 1.0, "ParseBasic(%q) allocs = %v, want <= 1", header, allocs)
	allocs = testing.AllocsPerRun(100, func() { _, _, _ = middleware.ParseBasic("Bearer " + authSecret) })
	assert.Zero(t, allocs, "ParseBasic(Bearer ...) allocs = %v, want 0", allocs)
}

// FuzzParseBasic checks that ParseBasic never panics, that what it accepts
// obeys its rules, and that accepted credentials, encoded again, parse back
// to the same pair.
func FuzzParseBasic(f *testing.F) {
	// More seeds live in testdata/fuzz/FuzzParseBasic.
	f.Add(authBasic(authKey + ":" + authSecret))
	f.Add("basic   " + base64.RawStdEncoding.EncodeToString([]byte("k:a:b")))
	f.Fuzz(func(t *testing.T, header string) {
		key, secret, err := middleware.ParseBasic(header)
		if err != nil {
			if !errors.Is(err, middleware.ErrMissingCredentials) && !errors.Is(err, middleware.ErrMalformedCredentials) {
				t.Fatalf("ParseBasic(%q) = %v, want %v or %v", header, err, middleware.ErrMissingCredentials, middleware.ErrMalformedCredentials)
			}
			if key != "" || secret != "" {
				t.Fatalf("ParseBasic(%q) = %q, %q, %v, want empty key and secret with an error", header, key, secret, err)
			}
			return
		}
		if len(header) > middleware.MaxAuthorizationLen {
			t.Fatalf("ParseBasic(<%d bytes>) = nil error, want %v", len(header), middleware.ErrMalformedCredentials)
		}
		if key == "" || secret == "" {
			t.Fatalf("ParseBasic(%q) = %q, %q, nil, want a non-empty key and secret", header, key, secret)
		}
		if strings.Contains(key, ":") {
			t.Fatalf("ParseBasic(%q) key = %q, want no colon", header, key)
		}
		for _, s := range []string{key, secret} {
			if strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
				t.Fatalf("ParseBasic(%q) = %q, %q, nil, want no control characters", header, key, secret)
			}
		}
		raw := []byte(key + ":" + secret)
		again := []string{"Basic " + base64.RawStdEncoding.EncodeToString(raw)} // never longer than header
		if padded := "Basic " + base64.StdEncoding.EncodeToString(raw); len(padded) <= middleware.MaxAuthorizationLen {
			again = append(again, padded)
		}
		for _, h := range again {
			k2, s2, err := middleware.ParseBasic(h)
			if err != nil || k2 != key || s2 != secret {
				t.Fatalf("ParseBasic(%q) = %q, %q, %v, want %q, %q, nil (re-encoded from %q)", h, k2, s2, err, key, secret, header)
			}
		}
	})
}

func BenchmarkParseBasic(b *testing.B) {
	header := authBasic(authKey + ":" + authSecret)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := middleware.ParseBasic(header); err != nil {
			b.Fatal(err)
		}
	}
}
