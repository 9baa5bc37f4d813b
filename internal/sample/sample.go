// Package sample renders example error bodies for the reference and the
// OpenAPI components: the real renderer's output for each code, made
// deterministic by a fixed request id, time and exc_ id, so that generated
// documents change only when the code behind them does.
package sample

import (
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"time"

	"github.com/faultline-go/faultline/catalog"
	"github.com/faultline-go/faultline/internal/reqctx"
	"github.com/faultline-go/faultline/problem"
)

// Fixed values of every example.
const (
	RequestID = "7f3c9a2e-5b1d-4e8f-a6c4-0d2b9e1f3a57"
	ExcID     = "exc_01j9z3c5v6q8w2x4y7b1n3m5k8"
	Path      = "/v1/example"
	// ErrorDomain is the error domain of the examples when the
	// configuration gives none: the google-strict envelope needs one.
	ErrorDomain = "api.example.com"
	// RetryDelay is the retry delay of the 429 and 503 examples.
	RetryDelay = time.Second
)

// Time is the timestamp of every example.
func Time() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }

// Envelopes returns the names of the built-in envelopes, in the order the
// reference shows them. A new built-in envelope is one more entry here.
func Envelopes() []string {
	return []string{problem.EnvelopeFlat, problem.EnvelopeGoogle, problem.EnvelopeTracked, problem.EnvelopeProblem,
		problem.EnvelopeGoogleStrict}
}

// NewRenderer returns a renderer for cfg in envelope env that renders
// examples: its clock is Time, it logs nothing, and its error domain is
// cfg.ErrorDomain, or ErrorDomain when cfg has none.
func NewRenderer(cfg problem.Config, env string) (*problem.Renderer, error) {
	cfg.Envelope = env
	if cfg.ErrorDomain == "" {
		cfg.ErrorDomain = ErrorDomain
	}
	cfg.Now = Time
	cfg.Logger = slog.New(slog.DiscardHandler)
	return problem.NewRenderer(cfg)
}

// excID matches the exc_ id the renderer makes for a sanitized error.
var excID = regexp.MustCompile(`exc_[0-9a-z]{26}`)

// Body returns the status, content type and body rd answers an example
// request for code with.
func Body(rd *problem.Renderer, code catalog.Code) (status int, contentType string, body []byte) {
	r := httptest.NewRequest("GET", Path, nil)
	st, ctx := reqctx.EnsureContext(r.Context())
	st.ID = RequestID
	status, h, body := rd.Render(r.WithContext(ctx), Error(code))
	return status, h.Get("Content-Type"), excID.ReplaceAll(body, []byte(ExcID))
}

// Error returns the example error for code: its default message, a field
// violation for the validation codes, a value for every metadata key the
// code documents, and RetryDelay for 429 and 503, which the rate limiter
// and the maintenance switch always send.
func Error(code catalog.Code) *problem.Error {
	var e *problem.Error
	switch code.Name {
	case catalog.MissingField:
		e = problem.MissingField("symbol")
	case catalog.InvalidFormat:
		e = problem.InvalidFormat("expires_at", "Invalid format for expires_at. Use RFC 3339.")
	case catalog.InvalidArgument:
		e = problem.Invalid("quantity", "Invalid quantity. Must be a positive number.")
	case catalog.Internal:
		return problem.Internal(errors.New("example cause, never sent"))
	default:
		e = problem.New(code.Name, "")
	}
	for _, key := range code.Metadata {
		e = e.WithMeta(key, metaValue(key))
	}
	if code.Status == http.StatusTooManyRequests || code.Status == http.StatusServiceUnavailable {
		e = e.WithRetryAfter(RetryDelay)
	}
	return e
}

// metaValue is the example value of a metadata key.
func metaValue(key string) string {
	switch key {
	case "policy":
		return "default"
	case "offset":
		return "17"
	case "limit":
		return "1048576"
	}
	return "example"
}
