package problem_test

import (
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/catalog"
	"github.com/faultline-go/faultline/problem"
)

func notFound() error { return problem.New(catalog.NotFound, "Order ord_42 not found.") }

func multiViolation() error {
	return problem.Validation(
		problem.Violation{Field: "symbol", Reason: catalog.MissingField, Description: "Missing required field: symbol."},
		problem.Violation{Field: "quantity", Reason: catalog.InvalidArgument, Description: "Invalid quantity. Must be a positive number."},
	)
}

func secretError() error { return errors.New("connect: password=hunter2 rejected") }

func TestEnvelopeContentType(t *testing.T) {
	want := map[string]string{
		problem.EnvelopeFlat:    "application/json; charset=utf-8",
		problem.EnvelopeGoogle:  "application/json; charset=utf-8",
		problem.EnvelopeTracked: "application/json; charset=utf-8",
		problem.EnvelopeProblem: "application/problem+json",
	}
	for _, env := range envelopes {
		t.Run(env, func(t *testing.T) {
			rd, _ := envRenderer(t, env)
			assert.Equal(t, env, rd.Envelope().Name(), "Envelope().Name()")
			assert.Equal(t, want[env], rd.Envelope().ContentType(), "Envelope().ContentType()")
			for _, err := range []error{notFound(), multiViolation(), secretError()} {
				rec := write(rd, "/x", err)
				assert.Equal(t, want[env], rec.Header().Get("Content-Type"), "Write(%v) Content-Type", err)
				assert.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"), "Write(%v) X-Content-Type-Options", err)
			}
		})
	}
}

func TestFlatEnvelope(t *testing.T) {
	rd, _ := envRenderer(t, problem.EnvelopeFlat)

	t.Run("not found", func(t *testing.T) {
		rec := write(rd, "/orders/ord_42", notFound())
		body := decodeObject(t, rec.Body.Bytes())
		assert.Equal(t, map[string]any{"code": "ERR-404-001", "message": "Order ord_42 not found."}, body,
			"Write(NOT_FOUND) body = %s", rec.Body)
		assert.Regexp(t, uuidPattern, rec.Header().Get(problem.HeaderRequestID), "X-Request-Id header")
	})
	t.Run("catalog default message", func(t *testing.T) {
		rec := write(rd, "/x", problem.New(catalog.Conflict, ""))
		body := decodeObject(t, rec.Body.Bytes())
		assert.Equal(t, "Resource state conflict.", body["message"], "message of New(CONFLICT, \"\")")
	})
	t.Run("internal names exc id", func(t *testing.T) {
		rec := write(rd, "/x", secretError())
		body := decodeObject(t, rec.Body.Bytes())
		require.Len(t, body, 2, "flat body %s has keys other than code, message", rec.Body)
		assert.Equal(t, "ERR-500-001", body["code"], "code")
		msg, _ := body["message"].(string)
		assert.Regexp(t, `^An internal error has occurred\. Reference: exc_[0-9a-z]{26}\.$`, msg, "message")
	})
	t.Run("custom prefix", func(t *testing.T) {
		rd, _ := newRenderer(t, problem.Config{Envelope: problem.EnvelopeFlat, Prefix: "BLUM"}, slog.LevelInfo)
		body := decodeObject(t, write(rd, "/x", notFound()).Body.Bytes())
		assert.Equal(t, "BLUM-404-001", body["code"], "code with Prefix BLUM")
	})
}

func TestGoogleEnvelope(t *testing.T) {
	rd, _ := envRenderer(t, problem.EnvelopeGoogle)
	googleError := func(t *testing.T, rec *httptest.ResponseRecorder) (map[string]any, []any) {
		t.Helper()
		body := decodeObject(t, rec.Body.Bytes())
		require.Len(t, body, 1, "google body %s has keys other than error", rec.Body)
		e := object(t, body, "error")
		assert.ElementsMatch(t, []string{"code", "status", "message", "details"}, keys(e), "error members")
		assert.Equal(t, float64(rec.Code), e["code"], "error.code is the HTTP status as a number")
		return e, array(t, e, "details")
	}

	t.Run("single cause", func(t *testing.T) {
		rec := write(rd, "/x", notFound())
		e, details := googleError(t, rec)
		assert.Equal(t, "NOT_FOUND", e["status"], "error.status")
		assert.Equal(t, "Order ord_42 not found.", e["message"], "error.message")
		require.Len(t, details, 1, "details")
		assert.Equal(t, map[string]any{"reason": "NOT_FOUND"}, details[0], "details[0]")
	})
	t.Run("reason override and metadata", func(t *testing.T) {
		err := problem.New(catalog.ResourceExhausted, "")
		err.Reason = "QUOTA_EXCEEDED"
		err.WithMeta("policy", "sandbox").WithMeta("limit", "10")
		_, details := googleError(t, write(rd, "/x", err))
		require.Len(t, details, 1, "details")
		assert.Equal(t, map[string]any{"reason": "QUOTA_EXCEEDED",
			"metadata": map[string]any{"limit": "10", "policy": "sandbox"}}, details[0], "details[0]")
	})
	t.Run("single violation", func(t *testing.T) {
		e, details := googleError(t, write(rd, "/x", problem.MissingField("symbol")))
		assert.Equal(t, "MISSING_FIELD", e["status"], "error.status")
		require.Len(t, details, 1, "details")
		d := details[0].(map[string]any)
		assert.Equal(t, e["status"], d["reason"], "details[0].reason = status")
		assert.Equal(t, "Missing required field: symbol.", d["description"], "details[0].description")
		assert.Equal(t, map[string]any{"field": "symbol"}, d["metadata"], "details[0].metadata")
	})
	t.Run("multiple violations", func(t *testing.T) {
		e, details := googleError(t, write(rd, "/x", multiViolation()))
		assert.Equal(t, "INVALID_ARGUMENT", e["status"], "error.status")
		assert.Equal(t, float64(400), e["code"], "error.code")
		require.Len(t, details, 2, "details: one per field")
		for i, want := range []struct{ reason, field string }{{"MISSING_FIELD", "symbol"}, {"INVALID_ARGUMENT", "quantity"}} {
			d := details[i].(map[string]any)
			assert.Equal(t, want.reason, d["reason"], "details[%d].reason", i)
			assert.Equal(t, want.field, object(t, d, "metadata")["field"], "details[%d].metadata.field", i)
			assert.NotEmpty(t, d["description"], "details[%d].description", i)
		}
	})
	t.Run("internal", func(t *testing.T) {
		rec := write(rd, "/x", secretError())
		e, details := googleError(t, rec)
		assert.Equal(t, "INTERNAL", e["status"], "error.status")
		assert.Equal(t, "An internal error has occurred.", e["message"], "error.message")
		require.Len(t, details, 1, "details")
		d := details[0].(map[string]any)
		assert.Equal(t, "ERROR_RECORDED", d["reason"], "details[0].reason")
		assert.Regexp(t, `^exc_[0-9a-z]{26}$`, object(t, d, "metadata")["id"], "details[0].metadata.id")
	})
	t.Run("no violations", func(t *testing.T) {
		// Validation() with nothing still renders details as an array.
		_, details := googleError(t, write(rd, "/x", problem.Validation()))
		assert.Len(t, details, 1, "details")
	})
}

func TestTrackedEnvelope(t *testing.T) {
	rd, _ := envRenderer(t, problem.EnvelopeTracked)
	trackedError := func(t *testing.T, rec *httptest.ResponseRecorder) (map[string]any, map[string]any) {
		t.Helper()
		body := decodeObject(t, rec.Body.Bytes())
		require.Len(t, body, 1, "tracked body %s has keys other than error", rec.Body)
		e := object(t, body, "error")
		assert.ElementsMatch(t, []string{"code", "message", "details", "request_id", "timestamp"}, keys(e), "error members")
		assert.Equal(t, rec.Header().Get(problem.HeaderRequestID), e["request_id"], "error.request_id = X-Request-Id header")
		assert.NotEmpty(t, e["request_id"], "error.request_id")
		assert.Equal(t, fixedTimestamp, e["timestamp"], "error.timestamp")
		return e, object(t, e, "details")
	}

	t.Run("plain 404", func(t *testing.T) {
		e, details := trackedError(t, write(rd, "/x", notFound()))
		assert.Equal(t, "NOT_FOUND", e["code"], "error.code")
		assert.Equal(t, "Order ord_42 not found.", e["message"], "error.message")
		assert.Empty(t, details, "error.details of a plain 404")
	})
	t.Run("validation", func(t *testing.T) {
		e, details := trackedError(t, write(rd, "/x", multiViolation()))
		assert.Equal(t, "INVALID_REQUEST", e["code"], "error.code")
		assert.Equal(t, "INVALID_ARGUMENT", details["reason"], "error.details.reason")
		fields := array(t, details, "fields")
		require.Len(t, fields, 2, "error.details.fields")
		assert.Equal(t, map[string]any{"field": "symbol", "reason": "MISSING_FIELD", "message": "Missing required field: symbol."},
			fields[0], "error.details.fields[0]")
		assert.Equal(t, "quantity", fields[1].(map[string]any)["field"], "error.details.fields[1].field")
	})
	t.Run("internal", func(t *testing.T) {
		e, details := trackedError(t, write(rd, "/x", secretError()))
		assert.Equal(t, "INTERNAL_ERROR", e["code"], "error.code")
		assert.Regexp(t, `^exc_[0-9a-z]{26}$`, details["exc_id"], "error.details.exc_id")
	})
	t.Run("metadata members, reserved keys skipped", func(t *testing.T) {
		err := problem.MissingField("symbol").WithMeta("fields", "x").WithMeta("exc_id", "y").WithMeta("hint", "z")
		_, details := trackedError(t, write(rd, "/x", err))
		assert.ElementsMatch(t, []string{"reason", "fields", "hint"}, keys(details), "error.details members")
		assert.Equal(t, "MISSING_FIELD", details["reason"], "error.details.reason")
		assert.Len(t, array(t, details, "fields"), 1, "error.details.fields")
		assert.Equal(t, "z", details["hint"], "error.details.hint")
	})
	t.Run("real clock", func(t *testing.T) {
		rd, _ := newRenderer(t, problem.Config{Envelope: problem.EnvelopeTracked, Now: time.Now}, slog.LevelInfo)
		before := time.Now().Truncate(time.Millisecond)
		rec := write(rd, "/x", notFound())
		after := time.Now()
		e := object(t, decodeObject(t, rec.Body.Bytes()), "error")
		ts, _ := e["timestamp"].(string)
		got, err := time.Parse(time.RFC3339, ts)
		require.NoError(t, err, "timestamp %q is not RFC 3339", ts)
		assert.True(t, strings.HasSuffix(ts, "Z"), "timestamp %q is not UTC", ts)
		assert.Equal(t, time.UTC, got.Location(), "timestamp %q location", ts)
		assert.False(t, got.Before(before) || got.After(after), "timestamp %s outside [%s, %s]", got, before, after)
	})
}

func TestProblemEnvelope(t *testing.T) {
	rd, _ := envRenderer(t, problem.EnvelopeProblem)
	members := []string{"type", "title", "status", "detail", "instance", "code", "request_id", "errors"}

	t.Run("not found", func(t *testing.T) {
		rec := write(rd, "/v1/orders/ord_42", notFound())
		assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"), "Content-Type")
		body := decodeObject(t, rec.Body.Bytes())
		assert.ElementsMatch(t, members, keys(body), "members of %s", rec.Body)
		assert.Equal(t, "about:blank", body["type"], "type")
		assert.Equal(t, "Not Found", body["title"], "title")
		assert.Equal(t, float64(404), body["status"], "status")
		assert.Equal(t, "Order ord_42 not found.", body["detail"], "detail")
		assert.Equal(t, "/v1/orders/ord_42", body["instance"], "instance")
		assert.Equal(t, "NOT_FOUND", body["code"], "code")
		assert.Equal(t, rec.Header().Get(problem.HeaderRequestID), body["request_id"], "request_id = X-Request-Id header")
		assert.Regexp(t, uuidPattern, body["request_id"], "request_id")
		assert.Empty(t, array(t, body, "errors"), "errors")
	})
	t.Run("instance is the path without the query", func(t *testing.T) {
		body := decodeObject(t, write(rd, "/v1/orders?token=secret", notFound()).Body.Bytes())
		assert.Equal(t, "/v1/orders", body["instance"], "instance")
	})
	t.Run("validation", func(t *testing.T) {
		body := decodeObject(t, write(rd, "/x", multiViolation()).Body.Bytes())
		errs := array(t, body, "errors")
		require.Len(t, errs, 2, "errors")
		assert.Equal(t, map[string]any{"field": "quantity", "reason": "INVALID_ARGUMENT",
			"message": "Invalid quantity. Must be a positive number."}, errs[1], "errors[1]")
	})
	t.Run("internal", func(t *testing.T) {
		body := decodeObject(t, write(rd, "/x", secretError()).Body.Bytes())
		assert.ElementsMatch(t, append(slices.Clone(members), "exc_id"), keys(body), "members")
		assert.Equal(t, "Internal Server Error", body["title"], "title")
		assert.Equal(t, "An internal error has occurred.", body["detail"], "detail")
		assert.Equal(t, "INTERNAL", body["code"], "code")
		assert.Regexp(t, `^exc_[0-9a-z]{26}$`, body["exc_id"], "exc_id")
	})
	t.Run("metadata members, reserved keys skipped", func(t *testing.T) {
		err := problem.New(catalog.NotFound, "").WithMeta("status", "hacked").WithMeta("errors", "x").WithMeta("policy", "sandbox")
		rec := write(rd, "/x", err)
		body := decodeObject(t, rec.Body.Bytes())
		assert.Equal(t, float64(404), body["status"], "status")
		assert.Empty(t, array(t, body, "errors"), "errors")
		assert.Equal(t, "sandbox", body["policy"], "policy")
		assert.Equal(t, 1, strings.Count(rec.Body.String(), `"status"`), "members named status in %s", rec.Body)
	})
}

func TestProblemTypeBaseURI(t *testing.T) {
	cat := catalog.MustNew("", catalog.Code{Name: "OUT_OF_STOCK", Status: 409, Title: "Out of stock"})
	for _, base := range []string{"https://errors.example.com/problems", "https://errors.example.com/problems/"} {
		t.Run(base, func(t *testing.T) {
			rd, _ := newRenderer(t, problem.Config{TypeBaseURI: base, Catalog: cat}, slog.LevelInfo)
			tests := []struct {
				err       error
				wantType  string
				wantTitle string
			}{
				{notFound(), "https://errors.example.com/problems/not-found", "Not Found"},
				{problem.New("OUT_OF_STOCK", ""), "https://errors.example.com/problems/out-of-stock", "Out of stock"},
				{secretError(), "https://errors.example.com/problems/internal", "Internal Server Error"},
			}
			for _, tc := range tests {
				body := decodeObject(t, write(rd, "/x", tc.err).Body.Bytes())
				assert.Equal(t, tc.wantType, body["type"], "type of %v", tc.err)
				assert.Equal(t, tc.wantTitle, body["title"], "title of %v", tc.err)
			}
		})
	}
	t.Run("status without status text", func(t *testing.T) {
		cat := catalog.MustNew("", catalog.Code{Name: "CLIENT_CLOSED", Status: 499})
		rd, _ := newRenderer(t, problem.Config{Catalog: cat}, slog.LevelInfo)
		rec := write(rd, "/x", problem.New("CLIENT_CLOSED", ""))
		assert.Equal(t, 499, rec.Code, "status")
		body := decodeObject(t, rec.Body.Bytes())
		assert.Equal(t, "Error", body["title"], "title of a status without status text")
		assert.Equal(t, "Error", body["detail"], "catalog default message of a status without status text")
	})
	t.Run("about:blank ignores code titles", func(t *testing.T) {
		rd, _ := newRenderer(t, problem.Config{Catalog: cat}, slog.LevelInfo)
		body := decodeObject(t, write(rd, "/x", problem.New("OUT_OF_STOCK", "")).Body.Bytes())
		assert.Equal(t, "about:blank", body["type"], "type")
		assert.Equal(t, "Conflict", body["title"], "title")
	})
}

// TestRequestIDHeaderAndBody checks that the id in the body is the one in
// the header, whether the renderer made it or RequestID middleware did.
func TestRequestIDHeaderAndBody(t *testing.T) {
	for _, env := range envelopes {
		t.Run(env, func(t *testing.T) {
			rd, _ := envRenderer(t, env)
			// flat and google carry the id in the header only.
			inBody := env == problem.EnvelopeTracked || env == problem.EnvelopeProblem
			rec := write(rd, "/x", notFound())
			id := rec.Header().Get(problem.HeaderRequestID)
			assert.Regexp(t, uuidPattern, id, "X-Request-Id made by the renderer")
			if inBody {
				assert.Contains(t, rec.Body.String(), `"request_id":"`+id+`"`, "body carries the header's id")
			}

			rec = serveThroughRequestID(rd, httptest.NewRequest(http.MethodGet, "/x", nil), notFound())
			assert.Equal(t, testRequestID, rec.Header().Get(problem.HeaderRequestID), "X-Request-Id behind RequestID")
			if inBody {
				assert.Contains(t, rec.Body.String(), `"request_id":"`+testRequestID+`"`, "body carries the incoming id")
			} else {
				assert.NotContains(t, rec.Body.String(), testRequestID, "%s body carries no request id", env)
			}
		})
	}
}

// keys returns the member names of m.
func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
