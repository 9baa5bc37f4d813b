package problem

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/faultline-go/faultline/catalog"
)

// Config configures a Renderer. The zero value is valid: the problem
// envelope, the built-in catalog under catalog.DefaultPrefix, slog.Default(),
// about:blank types, client errors logged at INFO and other 5xx at WARN.
type Config struct {
	// Envelope names the response shape: "flat", "google", "tracked",
	// "problem" (default), "google-strict", or the name of one of Extra.
	Envelope string
	// Prefix is the flat-code prefix (BLUM in BLUM-404-001). Empty means the
	// catalog's prefix. When both are set they must agree.
	Prefix string
	// Catalog holds the codes; nil means catalog.New(Prefix).
	Catalog *catalog.Catalog
	// Logger receives the error log records; nil means slog.Default() as
	// it is when the renderer is built.
	Logger *slog.Logger
	// TypeBaseURI, when set, makes the problem envelope's type
	// TypeBaseURI + "/" + the code name in kebab case
	// (https://example.com/problems/not-found), the URI of the code's
	// entry in the error reference; empty means about:blank, and
	// TypeQuotaExceeded for a 429.
	TypeBaseURI string
	// DocLinks makes every envelope link an error to its code's entry at
	// TypeBaseURI, which it requires: a Link: <uri>; rel="help" header
	// (RFC 8288) on every error response, after any Link of the error's
	// own; in the tracked envelope a details.documentation_url member; in
	// google-strict a google.rpc.Help detail. The problem envelope's type
	// is that URI already; the flat and google bodies have no place for it
	// and stay as they are.
	DocLinks bool
	// Negotiate, off by default, lets the Accept header choose between the
	// configured envelope and the problem envelope: a client that prefers
	// application/problem+json to application/json gets the problem
	// envelope whatever Envelope says, and a problem body goes out as
	// application/json to a client that accepts application/json but not
	// application/problem+json. Without an Accept header, or with one that
	// prefers neither, the configured envelope answers. Error responses
	// then carry Vary: Accept.
	Negotiate bool
	// ClientErrorLevel is the level 4xx responses are logged at; nil means
	// slog.LevelInfo.
	ClientErrorLevel slog.Leveler
	// ServerErrorLevel is the level non-internal 5xx responses (502, 503,
	// 504) are logged at; nil means slog.LevelWarn. Sanitized internal
	// errors are always logged at slog.LevelError.
	ServerErrorLevel slog.Leveler
	// Extra are envelopes of the service's own, selectable by name.
	Extra []Envelope
	// Now returns the current time, for the tracked envelope's timestamp,
	// the client-error log limit's seconds and ErrorEvent.Time; nil means
	// time.Now.
	Now func() time.Time
	// ErrorDomain is the domain of the google.rpc.ErrorInfo the
	// google-strict envelope sends: the service's name in DNS form
	// ("orders.example.com"), which with the reason identifies an error
	// across services. Required by the google-strict envelope; at most 255
	// printable ASCII characters without spaces.
	ErrorDomain string
	// ClientLogLimit bounds the records written for client errors (4xx):
	// at most this many per code per second. Past it, the errors are
	// counted, and the next record of the code written carries the count
	// as suppressed. 0 means DefaultClientLogLimit; NoLogLimit (or any
	// negative value) logs every one. 5xx are always logged.
	ClientLogLimit int
	// Observer, when set, is called for every rendered error (see
	// ErrorObserver).
	Observer ErrorObserver
}

// Environment variables read by ConfigFromEnv.
const (
	EnvEnvelope         = "FAULTLINE_ENVELOPE"
	EnvPrefix           = "FAULTLINE_PREFIX"
	EnvTypeBaseURI      = "FAULTLINE_TYPE_BASE_URI"
	EnvClientErrorLevel = "FAULTLINE_CLIENT_ERROR_LEVEL"
	EnvServerErrorLevel = "FAULTLINE_SERVER_ERROR_LEVEL"
	EnvErrorDomain      = "FAULTLINE_ERROR_DOMAIN"
	EnvDocLinks         = "FAULTLINE_DOC_LINKS" // true or false
	EnvNegotiate        = "FAULTLINE_NEGOTIATE" // true or false
)

// Errors returned when a Config is invalid. They are wrapped with the
// offending value, so test them with errors.Is.
var (
	ErrUnknownEnvelope = errors.New("problem: unknown envelope")
	ErrInvalidConfig   = errors.New("problem: invalid config")
)

// ConfigFromEnv reads a Config from the FAULTLINE_* environment variables
// through lookup (os.LookupEnv when nil). Unset variables keep their zero
// value; a variable with a bad value fails with an error naming it.
func ConfigFromEnv(lookup func(string) (string, bool)) (Config, error) {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	var cfg Config
	get := func(name string) (string, bool) {
		v, ok := lookup(name)
		return strings.TrimSpace(v), ok && strings.TrimSpace(v) != ""
	}
	if v, ok := get(EnvEnvelope); ok {
		cfg.Envelope = v
		if !slices.Contains(envelopeNames(nil), v) {
			return Config{}, fmt.Errorf("%s=%q: %w; valid: %s", EnvEnvelope, v, ErrUnknownEnvelope, strings.Join(envelopeNames(nil), ", "))
		}
	}
	if v, ok := get(EnvPrefix); ok {
		if _, err := catalog.New(v); err != nil {
			return Config{}, fmt.Errorf("%s=%q: %w", EnvPrefix, v, err)
		}
		cfg.Prefix = v
	}
	if v, ok := get(EnvTypeBaseURI); ok {
		if err := checkTypeBase(v); err != nil {
			return Config{}, fmt.Errorf("%s=%q: %w", EnvTypeBaseURI, v, err)
		}
		cfg.TypeBaseURI = v
	}
	if v, ok := get(EnvErrorDomain); ok {
		if err := checkDomain(v); err != nil {
			return Config{}, fmt.Errorf("%s=%q: %w", EnvErrorDomain, v, err)
		}
		cfg.ErrorDomain = v
	}
	for _, b := range []struct {
		name string
		dst  *bool
	}{{EnvDocLinks, &cfg.DocLinks}, {EnvNegotiate, &cfg.Negotiate}} {
		if v, ok := get(b.name); ok {
			on, err := strconv.ParseBool(v)
			if err != nil {
				return Config{}, fmt.Errorf("%s=%q: %w: want true or false", b.name, v, ErrInvalidConfig)
			}
			*b.dst = on
		}
	}
	for _, lv := range []struct {
		name string
		dst  *slog.Leveler
	}{{EnvClientErrorLevel, &cfg.ClientErrorLevel}, {EnvServerErrorLevel, &cfg.ServerErrorLevel}} {
		if v, ok := get(lv.name); ok {
			var l slog.Level
			if err := l.UnmarshalText([]byte(v)); err != nil {
				return Config{}, fmt.Errorf("%s=%q: %w: want DEBUG, INFO, WARN or ERROR", lv.name, v, ErrInvalidConfig)
			}
			*lv.dst = l
		}
	}
	return cfg, nil
}

func checkTypeBase(v string) error {
	u, err := url.Parse(v)
	if err != nil || !u.IsAbs() || u.Host == "" && u.Scheme != "urn" && u.Scheme != "tag" {
		return fmt.Errorf("%w: type base URI must be absolute", ErrInvalidConfig)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%w: type base URI must not have a query or fragment", ErrInvalidConfig)
	}
	return nil
}

func checkDomain(v string) error {
	if v == "" || len(v) > 255 {
		return fmt.Errorf("%w: error domain must be 1 to 255 characters", ErrInvalidConfig)
	}
	for i := 0; i < len(v); i++ {
		if v[i] <= ' ' || v[i] >= 0x7f {
			return fmt.Errorf("%w: error domain must be printable ASCII without spaces", ErrInvalidConfig)
		}
	}
	return nil
}

// envelopeNames lists the built-in envelope names and those of extra, sorted.
func envelopeNames(extra []Envelope) []string {
	var names []string
	for _, e := range builtinEnvelopes() {
		names = append(names, e.Name())
	}
	for _, e := range extra {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	return names
}
