package problem

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/faultline-go/faultline/catalog"
)

// Config configures a Renderer. The zero value is valid: the problem
// envelope, the built-in catalog under catalog.DefaultPrefix, slog.Default(),
// about:blank types, client errors logged at INFO and other 5xx at WARN.
type Config struct {
	// Envelope names the response shape: "flat", "google", "tracked",
	// "problem" (default), or the name of one of Extra.
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
	// (https://example.com/problems/not-found); empty means about:blank.
	TypeBaseURI string
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
