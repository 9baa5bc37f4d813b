package problem_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/catalog"
	"github.com/faultline-go/faultline/problem"
)

// excIDOf returns the exc_ id of a sanitized body, whatever the envelope.
func excIDOf(t *testing.T, body string) string {
	t.Helper()
	ids := excIDPattern.FindAllString(body, -1)
	require.Len(t, ids, 1, "exc_ ids in body %s", body)
	return ids[0]
}

func TestSanitizedInternalError(t *testing.T) {
	panicStack := []byte("goroutine 7 [running]:\nmain.handler()\n\t/app/main.go:42")
	tests := []struct {
		name        string
		err         error
		secret      string
		wantError   string // in the log record's error, "" for none
		wantChain   string // the log record's error_chain
		wantPanic   string // the log record's panic, "" for none
		wantUnknown string // the log record's unknown_code, "" for none
	}{
		{
			name:      "plain error",
			err:       secretError(),
			secret:    "hunter2",
			wantError: "connect: password=hunter2 rejected",
			wantChain: "*errors.errorString",
		},
		{
			name:      "wrapped error",
			err:       fmt.Errorf("load order: %w", secretError()),
			secret:    "hunter2",
			wantError: "load order: connect: password=hunter2 rejected",
			wantChain: "*fmt.wrapError > *errors.errorString",
		},
		{
			name:      "joined errors",
			err:       errors.Join(secretError(), errors.New("second")),
			secret:    "hunter2",
			wantError: "connect: password=hunter2 rejected\nsecond",
			wantChain: "*errors.joinError > *errors.errorString",
		},
		{
			name:      "INTERNAL problem hides its message",
			err:       problem.Wrap(secretError(), catalog.Internal, "DB password=hunter2 is wrong"),
			secret:    "hunter2",
			wantError: "INTERNAL: DB password=hunter2 is wrong: connect: password=hunter2 rejected",
			wantChain: "*problem.Error > *errors.errorString",
		},
		{
			name:      "problem.Internal",
			err:       problem.Internal(secretError()),
			secret:    "hunter2",
			wantError: "INTERNAL: connect: password=hunter2 rejected",
			wantChain: "*problem.Error > *errors.errorString",
		},
		{
			name:        "unknown code",
			err:         problem.New("NO_SUCH_CODE", "token=s3cr3t leaked"),
			secret:      "s3cr3t",
			wantError:   "NO_SUCH_CODE: token=s3cr3t leaked",
			wantChain:   "*problem.Error",
			wantUnknown: "NO_SUCH_CODE",
		},
		{
			name:        "misspelled code, wrapped",
			err:         fmt.Errorf("lookup: %w", problem.New("NOT_FOUNDD", "")),
			secret:      "hunter2",
			wantError:   "lookup: NOT_FOUNDD",
			wantChain:   "*fmt.wrapError > *problem.Error",
			wantUnknown: "NOT_FOUNDD",
		},
		{
			name:      "panic value",
			err:       &problem.PanicError{Value: "nil map write: card=4111111111111111", Stack: panicStack},
			secret:    "4111111111111111",
			wantChain: "*problem.PanicError",
			wantPanic: "nil map write: card=4111111111111111",
		},
		{
			name:      "panic with an error",
			err:       &problem.PanicError{Value: secretError(), Stack: panicStack},
			secret:    "hunter2",
			wantChain: "*problem.PanicError > *errors.errorString",
			wantPanic: "connect: password=hunter2 rejected",
		},
	}
	for _, env := range envelopes {
		for _, tc := range tests {
			t.Run(env+"/"+tc.name, func(t *testing.T) {
				rd, logs := envRenderer(t, env)
				req := httptest.NewRequest(http.MethodPost, "/v1/orders?debug=1", nil)
				rec := serveThroughRequestID(rd, req, tc.err)

				require.Equal(t, http.StatusInternalServerError, rec.Code, "Write(%v) status", tc.err)
				body := rec.Body.String()
				assert.NotContains(t, body, tc.secret, "Write(%v) body leaks the secret", tc.err)
				assert.NotContains(t, body, "goroutine", "Write(%v) body leaks the stack", tc.err)
				assert.NotContains(t, body, "password", "Write(%v) body leaks the error text", tc.err)
				excID := excIDOf(t, body)
				assert.True(t, json.Valid(rec.Body.Bytes()), "body %s is not JSON", body)

				r := logs.only(t)
				assert.Equal(t, "ERROR", r["level"], "log level")
				assert.Equal(t, "internal error", r["msg"], "log msg")
				assert.Equal(t, excID, r["exc_id"], "log exc_id = the body's")
				assert.Equal(t, testRequestID, r["request_id"], "log request_id")
				assert.Equal(t, http.MethodPost, r["method"], "log method")
				assert.Equal(t, "/v1/orders", r["path"], "log path")
				assert.Equal(t, float64(500), r["status"], "log status")
				assert.Equal(t, "INTERNAL", r["code"], "log code")
				if tc.wantError != "" {
					assert.Equal(t, tc.wantError, r["error"], "log error")
				} else {
					assert.NotContains(t, r, "error", "a panic's text is logged once, as panic")
				}
				if tc.wantUnknown != "" {
					assert.Equal(t, tc.wantUnknown, r["unknown_code"], "log unknown_code")
				} else {
					assert.NotContains(t, r, "unknown_code", "log record of a known code")
				}
				assert.Equal(t, tc.wantChain, r["error_chain"], "log error_chain")
				assert.NotContains(t, r, "message", "the generic message is not logged")
				if tc.wantPanic != "" {
					assert.Equal(t, tc.wantPanic, r["panic"], "log panic")
					assert.Equal(t, string(panicStack), r["stack"], "log stack")
				} else {
					assert.NotContains(t, r, "panic", "log record of a non-panic")
					assert.NotContains(t, r, "stack", "log record of a non-panic")
				}
			})
		}
	}
}

func TestExcIDsAreUnique(t *testing.T) {
	rd, _ := envRenderer(t, problem.EnvelopeProblem)
	seen := map[string]bool{}
	for range 100 {
		id := excIDOf(t, write(rd, "/x", secretError()).Body.String())
		require.False(t, seen[id], "exc_ id %s repeated", id)
		seen[id] = true
	}
}

func TestLogLevels(t *testing.T) {
	tests := []struct {
		name      string
		cfg       problem.Config
		err       error
		wantLevel string // "" for no record at all
		wantMsg   string
	}{
		{"4xx at INFO by default", problem.Config{}, notFound(), "INFO", "client error"},
		{"4xx at ClientErrorLevel", problem.Config{ClientErrorLevel: slog.LevelWarn}, notFound(), "WARN", "client error"},
		{"4xx below the logger level", problem.Config{ClientErrorLevel: slog.LevelDebug - 4}, notFound(), "", ""},
		{"503 at WARN by default", problem.Config{}, problem.New(catalog.Unavailable, ""), "WARN", "server error"},
		{"504 at WARN by default", problem.Config{}, context.DeadlineExceeded, "WARN", "server error"},
		{"5xx at ServerErrorLevel", problem.Config{ServerErrorLevel: slog.LevelError}, problem.New(catalog.BadGateway, ""), "ERROR", "server error"},
		{"internal at ERROR whatever the levels", problem.Config{ServerErrorLevel: slog.LevelDebug, ClientErrorLevel: slog.LevelDebug}, secretError(), "ERROR", "internal error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rd, logs := newRenderer(t, tc.cfg, slog.LevelDebug)
			write(rd, "/x", tc.err)
			if tc.wantLevel == "" {
				assert.Empty(t, logs.records(t), "Write(%v) logged", tc.err)
				return
			}
			r := logs.only(t)
			assert.Equal(t, tc.wantLevel, r["level"], "Write(%v) log level", tc.err)
			assert.Equal(t, tc.wantMsg, r["msg"], "Write(%v) log msg", tc.err)
		})
	}
}

func TestClientErrorLogRecord(t *testing.T) {
	rd, logs := envRenderer(t, problem.EnvelopeFlat)

	rec := write(rd, "/orders/ord_42", notFound())
	r := logs.only(t)
	assert.Equal(t, float64(404), r["status"], "status")
	assert.Equal(t, "NOT_FOUND", r["code"], "code")
	assert.Equal(t, rec.Header().Get(problem.HeaderRequestID), r["request_id"], "request_id = X-Request-Id header")
	assert.Equal(t, "GET", r["method"], "method")
	assert.Equal(t, "/orders/ord_42", r["path"], "path")
	assert.Equal(t, "Order ord_42 not found.", r["message"], "message")
	assert.NotContains(t, r, "error", "a plain *Error logs no error")
	assert.NotContains(t, r, "exc_id", "a 4xx has no exc_id")

	logs.buf.Reset()
	write(rd, "/x", problem.Wrap(sql("no rows"), catalog.NotFound, ""))
	r = logs.only(t)
	assert.Equal(t, "NOT_FOUND: sql: no rows", r["error"], "error of a *Error with a cause")
	assert.Equal(t, "*problem.Error > problem_test.sqlError", r["error_chain"], "error_chain")
}

type sqlError string

func (e sqlError) Error() string { return "sql: " + string(e) }

func sql(s string) error { return sqlError(s) }

func TestClassification(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name       string
		err        error
		ctx        context.Context
		wantStatus int
		wantCode   string // problem envelope code member
	}{
		{"*Error", notFound(), nil, 404, "NOT_FOUND"},
		{"wrapped *Error", fmt.Errorf("get order: %w", notFound()), nil, 404, "NOT_FOUND"},
		{"twice wrapped *Error", fmt.Errorf("a: %w", fmt.Errorf("b: %w", problem.New(catalog.Conflict, ""))), nil, 409, "CONFLICT"},
		{"*Error in a join", errors.Join(errors.New("x"), problem.New(catalog.PermissionDenied, "")), nil, 403, "PERMISSION_DENIED"},
		{"*Error through an As method", asProblem{problem.New(catalog.Conflict, "")}, nil, 409, "CONFLICT"},
		{"*Error in a panic", &problem.PanicError{Value: notFound()}, nil, 404, "NOT_FOUND"},
		{"deadline", context.DeadlineExceeded, nil, 504, "DEADLINE_EXCEEDED"},
		{"wrapped deadline", fmt.Errorf("query: %w", context.DeadlineExceeded), nil, 504, "DEADLINE_EXCEEDED"},
		{"max bytes", &http.MaxBytesError{Limit: 10}, nil, 413, "PAYLOAD_TOO_LARGE"},
		{"wrapped max bytes", fmt.Errorf("read: %w", &http.MaxBytesError{Limit: 10}), nil, 413, "PAYLOAD_TOO_LARGE"},
		{"canceled, request alive", context.Canceled, nil, 500, "INTERNAL"},
		{"*Error wrapping canceled", problem.Wrap(context.Canceled, catalog.Unavailable, ""), canceled, 503, "UNAVAILABLE"},
		{"plain", errors.New("boom"), nil, 500, "INTERNAL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rd, _ := envRenderer(t, problem.EnvelopeProblem)
			req := httptest.NewRequest(http.MethodGet, "/x", nil)
			if tc.ctx != nil {
				req = req.WithContext(tc.ctx)
			}
			rec := httptest.NewRecorder()
			rd.Write(rec, req, tc.err)
			require.Equal(t, tc.wantStatus, rec.Code, "Write(%v) status; body %s", tc.err, rec.Body)
			body := decodeObject(t, rec.Body.Bytes())
			assert.Equal(t, tc.wantCode, body["code"], "Write(%v) code", tc.err)
			assert.Equal(t, float64(tc.wantStatus), body["status"], "Write(%v) status member", tc.err)
		})
	}
}

// asProblem hands out its *Error through an As method only.
type asProblem struct{ e *problem.Error }

func (a asProblem) Error() string { return "as: " + a.e.Error() }
func (a asProblem) As(target any) bool {
	if p, ok := target.(**problem.Error); ok {
		*p = a.e
		return true
	}
	return false
}
