package middleware_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/catalog"
	"github.com/faultline-go/faultline/middleware"
	"github.com/faultline-go/faultline/problem"
)

const secret = "db password hunter2 at 10.0.0.7"

// newServer starts a test server for h whose own error log is discarded.
func newServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

func TestRecoverPanicIsSanitized(t *testing.T) {
	values := []struct {
		name  string
		value any
		text  string // what the log's panic attribute says
	}{
		{"string", secret, secret},
		{"error", errors.New(secret), secret},
		{"wrapped error", fmt.Errorf("query: %w", errors.New(secret)), "query: " + secret},
		{"int", 42, "42"},
	}
	for _, env := range envelopes {
		for _, v := range values {
			t.Run(env+"/"+v.name, func(t *testing.T) {
				rd, logs := newRenderer(t, env)
				h := middleware.RequestID(middleware.Recover(rd)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "text/plain")
					w.Header().Set("Content-Length", "12")
					panic(v.value)
				})))
				rec := serve(h, http.MethodGet, "/v1/orders")

				b := requireError(t, rd, env, rec, http.StatusInternalServerError, catalog.Internal)
				assert.NotContains(t, rec.Body.String(), "hunter2", "body leaks the panic value")
				assert.NotContains(t, rec.Body.String(), "goroutine", "body leaks the stack")
				assert.Empty(t, rec.Header().Get("Content-Length"), "the handler's Content-Length must not survive")
				require.Regexp(t, `^exc_[0-9a-z]{26}$`, b.ExcID, "exc id in the body")

				rec0 := logs.only(t)
				assert.Equal(t, "ERROR", rec0["level"])
				assert.Equal(t, b.ExcID, rec0["exc_id"], "logged exc_id, want the body's")
				assert.Equal(t, v.text, rec0["panic"], "logged panic")
				assert.Equal(t, rec.Header().Get(middleware.HeaderRequestID), rec0["request_id"], "logged request_id")
				stack, _ := rec0["stack"].(string)
				assert.Contains(t, stack, "recover_test.go", "logged stack should show the panicking frame")
				assert.Contains(t, stack, "goroutine", "logged stack")
			})
		}
	}
}

func TestRecoverRendersPanickedProblem(t *testing.T) {
	tests := []struct {
		name  string
		value any
	}{
		{"*problem.Error", problem.New(catalog.Conflict, "Order already paid.")},
		{"wrapped *problem.Error", fmt.Errorf("pay: %w", problem.New(catalog.Conflict, "Order already paid."))},
	}
	for _, env := range envelopes {
		for _, tt := range tests {
			t.Run(env+"/"+tt.name, func(t *testing.T) {
				rd, logs := newRenderer(t, env)
				h := middleware.Recover(rd)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					panic(tt.value)
				}))
				rec := serve(h, http.MethodPost, "/v1/orders/1/pay")

				b := requireError(t, rd, env, rec, http.StatusConflict, catalog.Conflict)
				assert.Equal(t, "Order already paid.", b.Message)
				assert.Empty(t, b.ExcID)
				rec0 := logs.only(t)
				assert.Equal(t, "INFO", rec0["level"], "a panicked 4xx is a client error")
				assert.NotEmpty(t, rec0["stack"], "the panic's stack is still logged")
			})
		}
	}
}

func TestRecoverRepanicsErrAbortHandler(t *testing.T) {
	rd, logs := newRenderer(t, problem.EnvelopeFlat)
	h := middleware.Recover(rd)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		panic(http.ErrAbortHandler)
	}))
	rec := httptest.NewRecorder()
	assert.PanicsWithValue(t, http.ErrAbortHandler, func() {
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	})
	assert.False(t, rec.Flushed)
	assert.Empty(t, rec.Body.String(), "nothing may be written for ErrAbortHandler")
	assert.Empty(t, rec.Header().Get("Content-Type"))
	assert.Empty(t, logs.String(), "ErrAbortHandler is not logged")
}

func TestRecoverPanicAfterCommit(t *testing.T) {
	tests := []struct {
		name     string
		handler  func(w http.ResponseWriter)
		wantCode int
		wantBody string
	}{
		{"partial body", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"items":[1,2,`)
		}, http.StatusOK, `{"items":[1,2,`},
		{"status only", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusCreated)
		}, http.StatusCreated, ""},
		{"flushed", func(w http.ResponseWriter) {
			_, _ = io.WriteString(w, "chunk")
			w.(http.Flusher).Flush()
		}, http.StatusOK, "chunk"},
		{"read from", func(w http.ResponseWriter) {
			_, _ = io.Copy(w, strings.NewReader("copied"))
		}, http.StatusOK, "copied"},
	}
	for _, env := range envelopes {
		for _, tt := range tests {
			t.Run(env+"/"+tt.name, func(t *testing.T) {
				rd, logs := newRenderer(t, env)
				h := middleware.RequestID(middleware.Recover(rd)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					tt.handler(w)
					panic(secret)
				})))
				rec := httptest.NewRecorder()
				assert.PanicsWithValue(t, http.ErrAbortHandler, func() {
					h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/orders", nil))
				})
				assert.Equal(t, tt.wantCode, rec.Code)
				assert.Equal(t, tt.wantBody, rec.Body.String(), "body, want exactly what the handler wrote")
				assert.NotContains(t, rec.Header().Get("Content-Type"), "problem", "no error Content-Type after commit")

				rec0 := logs.only(t)
				assert.Equal(t, "ERROR", rec0["level"])
				assert.Equal(t, secret, rec0["panic"])
				assert.Equal(t, true, rec0["committed"])
				assert.Regexp(t, `^exc_`, rec0["exc_id"])
				assert.Contains(t, rec0["stack"], "recover_test.go")
			})
		}
	}
}

func TestRecoverPanicAfterCommitTruncatesResponse(t *testing.T) {
	rd, logs := newRenderer(t, problem.EnvelopeTracked)
	srv := newServer(t, middleware.Recover(rd)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"items":[1,2,`)
		w.(http.Flusher).Flush()
		panic(secret)
	})))

	res, err := srv.Client().Get(srv.URL)
	if err == nil {
		// The status line and first chunk went out; the rest must fail
		// rather than look like a complete response.
		defer res.Body.Close()
		assert.Equal(t, http.StatusOK, res.StatusCode)
		body, readErr := io.ReadAll(res.Body)
		assert.ErrorIs(t, readErr, io.ErrUnexpectedEOF, "reading the body = %q, %v; want a truncated response", body, readErr)
		assert.Equal(t, `{"items":[1,2,`, string(body))
	}
	assert.Eventually(t, func() bool { return strings.Contains(logs.String(), `"committed":true`) },
		time.Second, time.Millisecond, "the panic after commit is logged")
}

func TestRecoverInformationalDoesNotCommit(t *testing.T) {
	rd, logs := newRenderer(t, problem.EnvelopeProblem)
	srv := newServer(t, middleware.Recover(rd)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		panic(secret)
	})))

	res, err := srv.Client().Get(srv.URL)
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	assert.Equal(t, http.StatusInternalServerError, res.StatusCode, "status after 103, body %s", body)
	assert.Equal(t, problem.ContentTypeProblem, res.Header.Get("Content-Type"))
	assert.NotContains(t, string(body), "hunter2")
	assert.Equal(t, "ERROR", logs.only(t)["level"])
}

func TestRecoverHead(t *testing.T) {
	for _, env := range envelopes {
		t.Run(env, func(t *testing.T) {
			rd, _ := newRenderer(t, env)
			h := middleware.Recover(rd)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic(secret) }))
			rec := serve(h, http.MethodHead, "/")
			assert.Equal(t, http.StatusInternalServerError, rec.Code)
			assert.Equal(t, contentType(env), rec.Header().Get("Content-Type"))
			assert.Empty(t, rec.Body.String(), "HEAD response body")
		})
	}
}

func TestRecoverInstallsRenderer(t *testing.T) {
	rd, _ := newRenderer(t, problem.EnvelopeFlat)
	var got *problem.Renderer
	h := middleware.Recover(rd)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = problem.FromContext(r.Context())
	}))
	serve(h, http.MethodGet, "/")
	assert.Same(t, rd, got, "problem.FromContext under Recover(rd)")
}

func TestRecoverNilRendererKeepsOuter(t *testing.T) {
	rd, logs := newRenderer(t, problem.EnvelopeGoogle)
	h := middleware.Recover(rd)(middleware.Recover(nil)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		panic(secret)
	})))
	rec := serve(h, http.MethodGet, "/")
	requireError(t, rd, problem.EnvelopeGoogle, rec, http.StatusInternalServerError, catalog.Internal)
	assert.Equal(t, "ERROR", logs.only(t)["level"])
}

func TestRecoverNilRendererUsesDefault(t *testing.T) {
	// With no renderer anywhere, the default problem-envelope renderer
	// answers. (It logs to slog.Default.)
	h := middleware.Recover(nil)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		panic(problem.New(catalog.NotFound, ""))
	}))
	rec := serve(h, http.MethodGet, "/")
	assert.Equal(t, http.StatusNotFound, rec.Code)
	assert.Equal(t, problem.ContentTypeProblem, rec.Header().Get("Content-Type"))
}

func TestRecoverNested(t *testing.T) {
	t.Run("inner recovers", func(t *testing.T) {
		outerRd, outerLogs := newRenderer(t, problem.EnvelopeFlat)
		innerRd, innerLogs := newRenderer(t, problem.EnvelopeTracked)
		h := middleware.RequestID(middleware.Recover(outerRd)(middleware.Recover(innerRd)(
			http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic(secret) }))))
		rec := serve(h, http.MethodGet, "/")

		b := requireError(t, innerRd, problem.EnvelopeTracked, rec, http.StatusInternalServerError, catalog.Internal)
		assert.Equal(t, b.ExcID, innerLogs.only(t)["exc_id"])
		assert.Empty(t, outerLogs.String(), "the outer Recover must see no panic")
	})
	t.Run("outer sees inner commit", func(t *testing.T) {
		// A middleware between two Recovers panics after the inner one's
		// handler answered: the outer writer must know the response is
		// committed.
		rd, logs := newRenderer(t, problem.EnvelopeFlat)
		between := func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				next.ServeHTTP(w, r)
				panic(secret)
			})
		}
		h := middleware.Recover(rd)(between(middleware.Recover(nil)(okHandler)))
		rec := httptest.NewRecorder()
		assert.PanicsWithValue(t, http.ErrAbortHandler, func() {
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		})
		assert.Equal(t, `{"ok":true}`, rec.Body.String())
		assert.Equal(t, true, logs.only(t)["committed"])
	})
	t.Run("inner writer is separate", func(t *testing.T) {
		// The inner Recover's response goes through the outer's writer.
		rd, _ := newRenderer(t, problem.EnvelopeFlat)
		var outerW, innerW http.ResponseWriter
		h := middleware.Recover(rd)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			outerW = w
			middleware.Recover(nil)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				innerW = w
				okHandler(w, r)
			})).ServeHTTP(w, r)
		}))
		rec := serve(h, http.MethodGet, "/")
		assert.Equal(t, `{"ok":true}`, rec.Body.String())
		require.NotNil(t, innerW)
		assert.NotSame(t, outerW, innerW, "a nested Recover must wrap with its own writer")
		assert.Same(t, outerW, http.ResponseWriter(innerW.(interface{ Unwrap() http.ResponseWriter }).Unwrap()),
			"the inner writer wraps the outer one")
	})
}

func TestRecoverPassesSuccess(t *testing.T) {
	rd, logs := newRenderer(t, problem.EnvelopeFlat)
	rec := serve(middleware.Recover(rd)(okHandler), http.MethodGet, "/")
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, `{"ok":true}`, rec.Body.String())
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	assert.Equal(t, "ok", rec.Header().Get("X-Handler"))
	assert.Empty(t, logs.String())
}

func TestRecoverWriterInterfaces(t *testing.T) {
	rd, _ := newRenderer(t, problem.EnvelopeFlat)

	t.Run("optional interfaces", func(t *testing.T) {
		var flusher, hijacker, readerFrom bool
		h := middleware.Recover(rd)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, flusher = w.(http.Flusher)
			_, hijacker = w.(http.Hijacker)
			_, readerFrom = w.(io.ReaderFrom)
		}))
		serve(h, http.MethodGet, "/")
		assert.True(t, flusher, "w.(http.Flusher)")
		assert.True(t, hijacker, "w.(http.Hijacker)")
		assert.True(t, readerFrom, "w.(io.ReaderFrom)")
	})

	t.Run("ResponseController Flush", func(t *testing.T) {
		var err error
		h := middleware.Recover(rd)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "x")
			err = http.NewResponseController(w).Flush()
		}))
		rec := serve(h, http.MethodGet, "/")
		require.NoError(t, err, "http.NewResponseController(w).Flush()")
		assert.True(t, rec.Flushed, "recorder.Flushed")
	})

	t.Run("ResponseController deadlines and streaming", func(t *testing.T) {
		var deadlineErr, flushErr error
		srv := newServer(t, middleware.Recover(rd)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rc := http.NewResponseController(w)
			deadlineErr = rc.SetWriteDeadline(time.Now().Add(5 * time.Second))
			_, _ = io.WriteString(w, "first,")
			flushErr = rc.Flush()
			_, _ = io.Copy(w, strings.NewReader("second"))
		})))
		res, err := srv.Client().Get(srv.URL)
		require.NoError(t, err)
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		assert.Equal(t, "first,second", string(body))
		assert.Equal(t, []string{"chunked"}, res.TransferEncoding, "flushed before the end, so chunked")
		assert.NoError(t, deadlineErr, "ResponseController.SetWriteDeadline through Unwrap")
		assert.NoError(t, flushErr, "ResponseController.Flush")
	})

	t.Run("Hijack", func(t *testing.T) {
		srv := newServer(t, middleware.Recover(rd)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			conn, brw, err := w.(http.Hijacker).Hijack()
			if !assert.NoError(t, err, "Hijack()") {
				return
			}
			defer conn.Close()
			_, _ = brw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 8\r\nConnection: close\r\n\r\nhijacked")
			_ = brw.Flush()
		})))
		res, err := srv.Client().Get(srv.URL)
		require.NoError(t, err)
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		assert.Equal(t, "hijacked", string(body))
	})
}

// TestRecoverPanicAfterHijack checks that a panic after the connection was
// hijacked writes nothing to it: the hijacked connection counts as committed.
func TestRecoverPanicAfterHijack(t *testing.T) {
	rd, logs := newRenderer(t, problem.EnvelopeFlat)
	srv := newServer(t, middleware.Recover(rd)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, brw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			panic(err)
		}
		_, _ = brw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 8\r\nConnection: close\r\n\r\nhijacked")
		_ = brw.Flush()
		defer conn.Close()
		panic(secret)
	})))
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	_, err = io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	require.NoError(t, err)
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	assert.Equal(t, "hijacked", string(body))
	rest, _ := io.ReadAll(br)
	assert.Empty(t, rest, "nothing may follow the hijacked response")
	assert.Eventually(t, func() bool { return strings.Contains(logs.String(), `"committed":true`) },
		time.Second, time.Millisecond, "the panic after hijack is logged as committed")
}
