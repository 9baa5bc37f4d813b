package problem_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/catalog"
	"github.com/faultline-go/faultline/internal/jsonw"
	"github.com/faultline-go/faultline/problem"
)

// textEnvelope is a service's own envelope: code and message as text.
type textEnvelope struct{ name string }

func (e textEnvelope) Name() string      { return e.name }
func (textEnvelope) ContentType() string { return "text/plain; charset=utf-8" }
func (textEnvelope) AppendBody(dst []byte, p *problem.Problem) []byte {
	dst = append(dst, p.Code.Name...)
	dst = append(dst, ' ')
	dst = jsonw.Int(dst, int64(p.Status))
	dst = append(dst, ": "...)
	dst = append(dst, p.Message...)
	dst = append(dst, " ["...)
	dst = append(dst, p.Instance...)
	dst = append(dst, ' ')
	dst = append(dst, p.Title...)
	dst = append(dst, ' ')
	dst = append(dst, p.RequestID...)
	dst = append(dst, ' ')
	dst = jsonw.Time(dst, p.Time)
	return append(dst, ']')
}

func TestNewRendererDefaults(t *testing.T) {
	rd, err := problem.NewRenderer(problem.Config{})
	require.NoError(t, err, "NewRenderer(Config{})")
	assert.Equal(t, problem.EnvelopeProblem, rd.Envelope().Name(), "default envelope")
	assert.Equal(t, catalog.DefaultPrefix, rd.Catalog().Prefix(), "default catalog prefix")
	assert.Same(t, slog.Default(), rd.Logger(), "default logger")

	cat := catalog.MustNew("BLUM")
	logger := slog.New(slog.DiscardHandler)
	rd, err = problem.NewRenderer(problem.Config{Envelope: problem.EnvelopeFlat, Prefix: "BLUM", Catalog: cat, Logger: logger})
	require.NoError(t, err, "NewRenderer with a matching Prefix and Catalog")
	assert.Same(t, cat, rd.Catalog(), "Catalog()")
	assert.Same(t, logger, rd.Logger(), "Logger()")
}

func TestNewRendererErrors(t *testing.T) {
	tests := []struct {
		name     string
		cfg      problem.Config
		wantIs   error
		wantText string
	}{
		{"unknown envelope", problem.Config{Envelope: "xml"}, problem.ErrUnknownEnvelope,
			`"xml"; valid: flat, google, google-strict, problem, tracked`},
		{"envelope names are case sensitive", problem.Config{Envelope: "Flat"}, problem.ErrUnknownEnvelope, "Flat"},
		{"unknown envelope lists Extra", problem.Config{Envelope: "xml", Extra: []problem.Envelope{textEnvelope{"text"}}},
			problem.ErrUnknownEnvelope, "valid: flat, google, google-strict, problem, text, tracked"},
		{"prefix differs from the catalog's", problem.Config{Prefix: "ACME", Catalog: catalog.MustNew("BLUM")},
			problem.ErrInvalidConfig, `Prefix "ACME" differs from the catalog's prefix "BLUM"`},
		{"invalid prefix", problem.Config{Prefix: "acme"}, catalog.ErrInvalidPrefix, "acme"},
		{"relative type base", problem.Config{TypeBaseURI: "/problems"}, problem.ErrInvalidConfig, "absolute"},
		{"type base without host", problem.Config{TypeBaseURI: "https:///problems"}, problem.ErrInvalidConfig, "absolute"},
		{"unparsable type base", problem.Config{TypeBaseURI: "https://[::1"}, problem.ErrInvalidConfig, "absolute"},
		{"type base with query", problem.Config{TypeBaseURI: "https://errors.example.com/p?v=1"}, problem.ErrInvalidConfig, "query"},
		{"type base with fragment", problem.Config{TypeBaseURI: "https://errors.example.com/p#x"}, problem.ErrInvalidConfig, "fragment"},
		{"duplicate Extra", problem.Config{Extra: []problem.Envelope{textEnvelope{"text"}, textEnvelope{"text"}}},
			problem.ErrInvalidConfig, `two envelopes named "text"`},
		{"Extra shadowing a built-in", problem.Config{Extra: []problem.Envelope{textEnvelope{"flat"}}},
			problem.ErrInvalidConfig, `two envelopes named "flat"`},
		{"nil Extra", problem.Config{Extra: []problem.Envelope{nil}}, problem.ErrInvalidConfig, "nil envelope"},
		{"unnamed Extra", problem.Config{Extra: []problem.Envelope{textEnvelope{""}}}, problem.ErrInvalidConfig, "empty name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rd, err := problem.NewRenderer(tc.cfg)
			require.Error(t, err, "NewRenderer(%+v) = %v, nil, want an error", tc.cfg, rd)
			assert.Nil(t, rd, "NewRenderer(%+v) renderer on error", tc.cfg)
			assert.ErrorIs(t, err, tc.wantIs, "NewRenderer(%+v) = %v", tc.cfg, err)
			assert.Contains(t, err.Error(), tc.wantText, "NewRenderer(%+v) error text", tc.cfg)
		})
	}
}

func TestNewRendererValidTypeBase(t *testing.T) {
	for _, base := range []string{"https://errors.example.com/problems", "urn:example:problems", "tag:example.com,2025:problems"} {
		_, err := problem.NewRenderer(problem.Config{TypeBaseURI: base})
		assert.NoError(t, err, "NewRenderer(TypeBaseURI %q)", base)
	}
}

func TestMustRenderer(t *testing.T) {
	assert.NotNil(t, problem.MustRenderer(problem.Config{Envelope: problem.EnvelopeGoogle}), "MustRenderer(google)")
	assert.PanicsWithError(t, `problem: unknown envelope "xml"; valid: flat, google, google-strict, problem, tracked`, func() {
		problem.MustRenderer(problem.Config{Envelope: "xml"})
	}, "MustRenderer(xml)")
}

func TestExtraEnvelope(t *testing.T) {
	rd, logs := newRenderer(t, problem.Config{
		Envelope: "text",
		Extra:    []problem.Envelope{textEnvelope{"text"}},
	}, slog.LevelDebug)
	assert.Equal(t, "text", rd.Envelope().Name(), "Envelope().Name()")

	rec := serveThroughRequestID(rd, httptest.NewRequest(http.MethodGet, "/v1/orders/7", nil), notFound())
	assert.Equal(t, http.StatusNotFound, rec.Code, "status")
	assert.Equal(t, "text/plain; charset=utf-8", rec.Header().Get("Content-Type"), "Content-Type")
	assert.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"), "X-Content-Type-Options")
	assert.Equal(t, `NOT_FOUND 404: Order ord_42 not found. [/v1/orders/7 Not Found req-7f3a9c "`+fixedTimestamp+`"]`,
		rec.Body.String(), "body")
	assert.Len(t, logs.records(t), 1, "log records")

	rec = write(rd, "/x", secretError())
	assert.Equal(t, http.StatusInternalServerError, rec.Code, "status of a sanitized error")
	assert.NotContains(t, rec.Body.String(), "hunter2", "body of a sanitized error")

	// An Extra envelope does not displace the default.
	rd, _ = newRenderer(t, problem.Config{Extra: []problem.Envelope{textEnvelope{"text"}}}, slog.LevelInfo)
	assert.Equal(t, problem.EnvelopeProblem, rd.Envelope().Name(), "default envelope with Extra")
}

// env is a fake environment for ConfigFromEnv.
type env map[string]string

func (e env) lookup(name string) (string, bool) {
	v, ok := e[name]
	return v, ok
}

func TestConfigFromEnv(t *testing.T) {
	t.Run("all set", func(t *testing.T) {
		cfg, err := problem.ConfigFromEnv(env{
			"FAULTLINE_ENVELOPE":           "google",
			"FAULTLINE_PREFIX":             " BLUM ",
			"FAULTLINE_TYPE_BASE_URI":      "https://errors.example.com/problems",
			"FAULTLINE_CLIENT_ERROR_LEVEL": "debug",
			"FAULTLINE_SERVER_ERROR_LEVEL": "ERROR",
			"FAULTLINE_UNRELATED":          "x",
		}.lookup)
		require.NoError(t, err, "ConfigFromEnv")
		assert.Equal(t, "google", cfg.Envelope, "Envelope")
		assert.Equal(t, "BLUM", cfg.Prefix, "Prefix")
		assert.Equal(t, "https://errors.example.com/problems", cfg.TypeBaseURI, "TypeBaseURI")
		assert.Equal(t, slog.LevelDebug, cfg.ClientErrorLevel, "ClientErrorLevel")
		assert.Equal(t, slog.LevelError, cfg.ServerErrorLevel, "ServerErrorLevel")
		_, err = problem.NewRenderer(cfg)
		assert.NoError(t, err, "NewRenderer(ConfigFromEnv())")
	})
	t.Run("unset and blank keep zero values", func(t *testing.T) {
		cfg, err := problem.ConfigFromEnv(env{"FAULTLINE_ENVELOPE": "  ", "FAULTLINE_PREFIX": ""}.lookup)
		require.NoError(t, err, "ConfigFromEnv")
		assert.Equal(t, problem.Config{}, cfg, "ConfigFromEnv of an empty environment")
	})
	t.Run("level offsets", func(t *testing.T) {
		cfg, err := problem.ConfigFromEnv(env{"FAULTLINE_SERVER_ERROR_LEVEL": "WARN+2"}.lookup)
		require.NoError(t, err, "ConfigFromEnv")
		assert.Equal(t, slog.LevelWarn+2, cfg.ServerErrorLevel, "ServerErrorLevel")
	})
	t.Run("os environment by default", func(t *testing.T) {
		t.Setenv("FAULTLINE_ENVELOPE", "tracked")
		cfg, err := problem.ConfigFromEnv(nil)
		require.NoError(t, err, "ConfigFromEnv(nil)")
		assert.Equal(t, "tracked", cfg.Envelope, "Envelope from the process environment")
	})

	bad := []struct {
		name   string
		value  string
		wantIs error
	}{
		{"FAULTLINE_ENVELOPE", "xml", problem.ErrUnknownEnvelope},
		{"FAULTLINE_PREFIX", "blum-1", catalog.ErrInvalidPrefix},
		{"FAULTLINE_TYPE_BASE_URI", "problems/", problem.ErrInvalidConfig},
		{"FAULTLINE_CLIENT_ERROR_LEVEL", "LOUD", problem.ErrInvalidConfig},
		{"FAULTLINE_SERVER_ERROR_LEVEL", "7", problem.ErrInvalidConfig},
	}
	for _, tc := range bad {
		t.Run("bad "+tc.name, func(t *testing.T) {
			cfg, err := problem.ConfigFromEnv(env{tc.name: tc.value}.lookup)
			require.Error(t, err, "ConfigFromEnv(%s=%q) = %+v, nil, want an error", tc.name, tc.value, cfg)
			assert.Contains(t, err.Error(), tc.name+`="`+tc.value+`"`, "ConfigFromEnv(%s=%q) error names the variable", tc.name, tc.value)
			assert.ErrorIs(t, err, tc.wantIs, "ConfigFromEnv(%s=%q) = %v", tc.name, tc.value, err)
			assert.Equal(t, problem.Config{}, cfg, "ConfigFromEnv(%s=%q) config on error", tc.name, tc.value)
		})
	}
	t.Run("bad envelope lists the valid ones", func(t *testing.T) {
		_, err := problem.ConfigFromEnv(env{"FAULTLINE_ENVELOPE": "xml"}.lookup)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "valid: flat, google, google-strict, problem, tracked", "ConfigFromEnv(FAULTLINE_ENVELOPE=xml) error")
	})
	t.Run("variable names", func(t *testing.T) {
		names := []string{problem.EnvEnvelope, problem.EnvPrefix, problem.EnvTypeBaseURI,
			problem.EnvClientErrorLevel, problem.EnvServerErrorLevel}
		for i, want := range []string{"FAULTLINE_ENVELOPE", "FAULTLINE_PREFIX", "FAULTLINE_TYPE_BASE_URI",
			"FAULTLINE_CLIENT_ERROR_LEVEL", "FAULTLINE_SERVER_ERROR_LEVEL"} {
			assert.Equal(t, want, names[i], "Env constant %d", i)
		}
	})
}
