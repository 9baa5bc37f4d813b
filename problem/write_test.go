package problem_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/catalog"
	"github.com/faultline-go/faultline/middleware"
	"github.com/faultline-go/faultline/problem"
)

func TestNothingWritten(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name    string
		err     error
		ctx     context.Context
		wantMsg string // the DEBUG record's msg
	}{
		{"nil error", nil, nil, ""},
		{"client canceled", context.Canceled, canceled, "client went away"},
		{"client canceled, wrapped", fmt.Errorf("query: %w", context.Canceled), canceled, "client went away"},
		{"EPIPE", fmt.Errorf("write tcp: %w", syscall.EPIPE), nil, "client went away"},
		{"ECONNRESET", &net.OpError{Op: "write", Err: syscall.ECONNRESET}, nil, "client went away"},
		{"closed connection", net.ErrClosed, nil, "client went away"},
		{"handler timeout", http.ErrHandlerTimeout, nil, "client went away"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rd, logs := envRenderer(t, problem.EnvelopeProblem)
			req := httptest.NewRequest(http.MethodGet, "/x", nil)
			if tc.ctx != nil {
				req = req.WithContext(tc.ctx)
			}
			w := newSpy()
			rd.Write(w, req, tc.err)
			assert.Zero(t, w.writes, "Write(%v) wrote status %d body %q", tc.err, w.status, w.body.String())
			assert.Empty(t, w.header, "Write(%v) set headers", tc.err)
			recs := logs.records(t)
			if tc.wantMsg == "" {
				assert.Empty(t, recs, "Write(%v) logged", tc.err)
				return
			}
			require.Len(t, recs, 1, "Write(%v) log records", tc.err)
			assert.Equal(t, "DEBUG", recs[0]["level"], "Write(%v) log level", tc.err)
			assert.Equal(t, tc.wantMsg, recs[0]["msg"], "Write(%v) log msg", tc.err)
			assert.Equal(t, tc.err.Error(), recs[0]["error"], "Write(%v) log error", tc.err)
			assert.Equal(t, "/x", recs[0]["path"], "Write(%v) log path", tc.err)
		})
	}

	t.Run("client canceled, logged at DEBUG only", func(t *testing.T) {
		rd, logs := newRenderer(t, problem.Config{}, slog.LevelInfo)
		w := newSpy()
		rd.Write(w, httptest.NewRequest(http.MethodGet, "/x", nil).WithContext(canceled), context.Canceled)
		assert.Zero(t, w.writes, "Write(context.Canceled) wrote")
		assert.Empty(t, logs.records(t), "Write(context.Canceled) logged above DEBUG")
	})
}

func TestCommittedResponse(t *testing.T) {
	t.Run("writer with Committed", func(t *testing.T) {
		rd, logs := envRenderer(t, problem.EnvelopeGoogle)
		w := committedWriter{newSpy()}
		rd.Write(w, httptest.NewRequest(http.MethodGet, "/x", nil), secretError())
		assert.Zero(t, w.writes, "Write to a committed response wrote status %d body %q", w.status, w.body.String())
		assert.Empty(t, w.header, "Write to a committed response set headers")
		r := logs.only(t)
		assert.Equal(t, "ERROR", r["level"], "log level")
		assert.Equal(t, true, r["committed"], "log committed")
		assert.Regexp(t, `^exc_[0-9a-z]{26}$`, r["exc_id"], "log exc_id")
		assert.Equal(t, "connect: password=hunter2 rejected", r["error"], "log error")
	})
	t.Run("committed as the Recover middleware saw it", func(t *testing.T) {
		// A middleware between Recover and the handler hides Committed; the
		// renderer still knows from the request state.
		rd, logs := envRenderer(t, problem.EnvelopeProblem)
		h := middleware.RequestID(middleware.Recover(rd)(hideCommitted(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte("partial"))
			problem.Write(w, r, notFound())
		}))))
		req := httptest.NewRequest(http.MethodGet, "/x", nil)
		req.Header.Set(problem.HeaderRequestID, testRequestID)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		assert.Equal(t, http.StatusOK, rec.Code, "status")
		assert.Equal(t, "partial", rec.Body.String(), "body")
		assert.Empty(t, rec.Header().Get("Content-Type"), "Content-Type set after commit")
		r := logs.only(t)
		assert.Equal(t, true, r["committed"], "log committed")
		assert.Equal(t, testRequestID, r["request_id"], "log request_id")
		assert.Equal(t, "NOT_FOUND", r["code"], "log code")
	})
	t.Run("uncommitted writer", func(t *testing.T) {
		rd, logs := envRenderer(t, problem.EnvelopeProblem)
		w := uncommittedWriter{newSpy()}
		rd.Write(w, httptest.NewRequest(http.MethodGet, "/x", nil), notFound())
		assert.Equal(t, 404, w.status, "status")
		assert.NotContains(t, logs.only(t), "committed", "log record")
	})
}

type uncommittedWriter struct{ *spyWriter }

func (uncommittedWriter) Committed() bool { return false }

// hideCommitted hands next a writer with only the ResponseWriter methods.
func hideCommitted(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(struct{ http.ResponseWriter }{w}, r)
	})
}

func TestHeadRequest(t *testing.T) {
	for _, env := range envelopes {
		t.Run(env, func(t *testing.T) {
			rd, _ := envRenderer(t, env)
			rec := httptest.NewRecorder()
			err := problem.New(catalog.ResourceExhausted, "").WithRetryAfter(time.Second)
			rd.Write(rec, httptest.NewRequest(http.MethodHead, "/x", nil), err)
			assert.Equal(t, http.StatusTooManyRequests, rec.Code, "HEAD status")
			assert.Empty(t, rec.Body.Bytes(), "HEAD body")
			assert.Equal(t, rd.Envelope().ContentType(), rec.Header().Get("Content-Type"), "HEAD Content-Type")
			assert.Equal(t, "1", rec.Header().Get("Retry-After"), "HEAD Retry-After")
			assert.NotEmpty(t, rec.Header().Get(problem.HeaderRequestID), "HEAD X-Request-Id")
		})
	}
}

func TestErrorHeaders(t *testing.T) {
	rd, _ := envRenderer(t, problem.EnvelopeFlat)

	t.Run("Allow and WWW-Authenticate", func(t *testing.T) {
		rec := write(rd, "/x", problem.New(catalog.MissingAuthorization, "").
			WithHeader("www-authenticate", `Basic realm="api"`).WithHeader("Allow", "GET").WithHeader("Allow", "HEAD"))
		assert.Equal(t, http.StatusUnauthorized, rec.Code, "status")
		assert.Equal(t, `Basic realm="api"`, rec.Header().Get("WWW-Authenticate"), "WWW-Authenticate")
		assert.Equal(t, []string{"GET", "HEAD"}, rec.Header().Values("Allow"), "Allow values")
	})
	t.Run("not for sanitized errors", func(t *testing.T) {
		rec := write(rd, "/x", problem.Internal(secretError()).WithHeader("X-Debug", "hunter2").WithRetryAfter(time.Second))
		assert.Empty(t, rec.Header().Get("X-Debug"), "X-Debug of a sanitized error")
		assert.Empty(t, rec.Header().Get("Retry-After"), "Retry-After of a sanitized error")
	})
	t.Run("no Retry-After when zero", func(t *testing.T) {
		rec := write(rd, "/x", problem.New(catalog.ResourceExhausted, ""))
		assert.Empty(t, rec.Header().Values("Retry-After"), "Retry-After")
	})
	t.Run("content headers of the handler's body are removed", func(t *testing.T) {
		rec := httptest.NewRecorder()
		h := rec.Header()
		h.Set("Content-Length", "12345")
		h.Set("Content-Encoding", "gzip")
		h.Set("Content-Range", "bytes 0-99/1000")
		h.Set("Content-Disposition", "attachment")
		h.Set("Content-Language", "de")
		h.Set("ETag", `"abc"`)
		h.Set("Last-Modified", "Mon, 02 Jan 2006 15:04:05 GMT")
		h.Set("Transfer-Encoding", "chunked")
		h.Set("Content-Type", "application/pdf")
		h.Set("Cache-Control", "no-store")
		rd.Write(rec, httptest.NewRequest(http.MethodGet, "/x", nil), notFound())
		for _, k := range []string{"Content-Length", "Content-Encoding", "Content-Range", "Content-Disposition",
			"Content-Language", "ETag", "Last-Modified", "Transfer-Encoding"} {
			assert.Empty(t, rec.Header().Values(k), "header %s after Write", k)
		}
		assert.Equal(t, problem.ContentTypeJSON, rec.Header().Get("Content-Type"), "Content-Type after Write")
		assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"), "unrelated header after Write")
		assert.True(t, json.Valid(rec.Body.Bytes()), "body %s", rec.Body)
	})
}

func TestRetryAfterSeconds(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{-time.Second, "1"},
		{0, "1"},
		{1, "1"},
		{time.Second, "1"},
		{1001 * time.Millisecond, "2"},
		{1500 * time.Millisecond, "2"},
		{2 * time.Second, "2"},
		{time.Minute + 1, "61"},
		{math.MaxInt64, "9223372037"},
	}
	for _, tc := range tests {
		t.Run(tc.d.String(), func(t *testing.T) {
			assert.Equal(t, tc.want, problem.RetryAfterSeconds(tc.d), "RetryAfterSeconds(%v)", tc.d)
		})
	}

	rd, _ := envRenderer(t, problem.EnvelopeFlat)
	rec := write(rd, "/x", problem.New(catalog.Unavailable, "").WithRetryAfter(2500*time.Millisecond))
	assert.Equal(t, "3", rec.Header().Get(problem.HeaderRetryAfter), "Write(RetryAfter 2.5s) Retry-After")
}

// TestMessageEscaping renders hostile messages and checks that every
// envelope produces valid JSON that decodes to the message, with invalid
// UTF-8 replaced byte by byte.
func TestMessageEscaping(t *testing.T) {
	messages := map[string]string{
		"invalid UTF-8":   "bad \xff\xfe bytes \xe2\x82 cut",
		"control chars":   "a\x00b\x01c\td\ne\rf\x1fg\x7f",
		"quotes":          `she said "hi" \ back\slash`,
		"html":            `<script>alert("x")</script> & more`,
		"line separators": "line\u2028para\u2029end",
		"non-ASCII":       "Bestellung für Jürgen: 注文 🚀",
	}
	for _, env := range envelopes {
		for name, msg := range messages {
			t.Run(env+"/"+name, func(t *testing.T) {
				rd, _ := envRenderer(t, env)
				err := problem.New(catalog.NotFound, msg).WithMeta("note", msg)
				rec := write(rd, "/x", err)
				require.True(t, json.Valid(rec.Body.Bytes()), "Write(%q) body is not JSON: %s", msg, rec.Body)
				want := string([]rune(msg)) // each invalid byte becomes U+FFFD
				var got string
				switch body := decodeObject(t, rec.Body.Bytes()); env {
				case problem.EnvelopeFlat:
					got, _ = body["message"].(string)
				case problem.EnvelopeGoogle:
					e := object(t, body, "error")
					got, _ = e["message"].(string)
					d := array(t, e, "details")[0].(map[string]any)
					assert.Equal(t, want, object(t, d, "metadata")["note"], "metadata.note")
				case problem.EnvelopeTracked:
					e := object(t, body, "error")
					got, _ = e["message"].(string)
					assert.Equal(t, want, object(t, e, "details")["note"], "details.note")
				case problem.EnvelopeProblem:
					got, _ = body["detail"].(string)
					assert.Equal(t, want, body["note"], "note member")
				}
				assert.Equal(t, want, got, "Write(%q) decoded message", msg)
				for _, raw := range []string{"<", ">", "&", "\u2028", "\u2029", "\x00", "\n"} {
					assert.NotContains(t, rec.Body.String(), raw, "Write(%q) body holds %q unescaped", msg, raw)
				}
			})
		}
	}
}

func TestViolationEscaping(t *testing.T) {
	field := "items[0].\"na<me>\"\xff"
	for _, env := range envelopes {
		t.Run(env, func(t *testing.T) {
			rd, _ := envRenderer(t, env)
			rec := write(rd, "/x", problem.Invalid(field, "bad\u2028value"))
			require.True(t, json.Valid(rec.Body.Bytes()), "body is not JSON: %s", rec.Body)
			if env != problem.EnvelopeFlat {
				assert.Contains(t, rec.Body.String(), `items[0].\"na\u003cme\u003e\"\ufffd`, "escaped field")
			}
		})
	}
}

func TestRenderAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	for _, env := range envelopes {
		t.Run(env, func(t *testing.T) {
			rd, err := problem.NewRenderer(problem.Config{Envelope: env, Logger: slog.New(slog.DiscardHandler)})
			require.NoError(t, err)
			r := httptest.NewRequest(http.MethodGet, "/orders/42", nil)
			w := &discardWriter{header: make(http.Header, 8)}
			for _, e := range []error{notFound(), secretError(), multiViolation()} {
				got := testing.AllocsPerRun(200, func() {
					w.reset()
					rd.Write(w, r, e)
				})
				assert.LessOrEqual(t, got, 3.0, "Write(%v) allocations per response", e)
			}
		})
	}
}

func TestWriteConcurrent(t *testing.T) {
	rd, _ := newRenderer(t, problem.Config{Envelope: problem.EnvelopeTracked}, slog.LevelDebug+100)
	done := make(chan string, 8)
	for range 8 {
		go func() {
			var last string
			for range 50 {
				rec := write(rd, "/x", secretError())
				last = rec.Body.String()
			}
			done <- last
		}()
	}
	for range 8 {
		body := <-done
		assert.True(t, json.Valid([]byte(body)), "body %s", body)
		assert.True(t, strings.Contains(body, "INTERNAL_ERROR"), "body %s", body)
	}
}
