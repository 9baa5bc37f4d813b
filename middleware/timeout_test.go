package middleware_test

import (
	"context"
	"io"
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

const (
	// testTimeout is the Timeout of the tests: short, so the tests are
	// fast, and the handlers block on channels rather than on sleeps.
	testTimeout = 50 * time.Millisecond
	// slack bounds how late a timeout response may come.
	slack = time.Second
)

// blocked returns a channel the test closes to release its handlers; it is
// closed at the end of the test in any case.
func blocked(t *testing.T) chan struct{} {
	release := make(chan struct{})
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
	return release
}

func TestTimeoutDeadlineExceeded(t *testing.T) {
	for _, env := range envelopes {
		t.Run(env, func(t *testing.T) {
			rd, logs := newRenderer(t, env)
			release := blocked(t)
			h := middleware.RequestID(middleware.Recover(rd)(middleware.Timeout(testTimeout)(http.HandlerFunc(
				func(w http.ResponseWriter, r *http.Request) {
					<-release // ignores its context
					okHandler(w, r)
				}))))

			start := time.Now()
			rec := serve(h, http.MethodGet, "/v1/slow")
			elapsed := time.Since(start)

			b := requireError(t, rd, env, rec, http.StatusGatewayTimeout, catalog.DeadlineExceeded)
			assert.Equal(t, "The request did not complete within 50ms.", b.Message)
			assert.GreaterOrEqual(t, elapsed, testTimeout, "Timeout answered before its deadline")
			assert.Less(t, elapsed, testTimeout+slack, "Timeout(%v) answered after %v", testTimeout, elapsed)
			requireUUIDv4(t, rec.Header().Get(middleware.HeaderRequestID))
			assert.Empty(t, rec.Header().Get("X-Handler"), "the handler's headers must not leak into the 504")
			rec0 := logs.only(t)
			assert.Equal(t, "WARN", rec0["level"])
			assert.Equal(t, catalog.DeadlineExceeded, rec0["code"])
		})
	}
}

func TestTimeoutLateWritesDiscarded(t *testing.T) {
	rd, _ := newRenderer(t, problem.EnvelopeFlat)
	release := blocked(t)
	type result struct {
		n         int
		err       error
		committed bool
	}
	late := make(chan result, 1)
	h := middleware.Recover(rd)(middleware.Timeout(testTimeout)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "early ") // buffered, never sent
		<-release
		w.Header().Set("X-Late", "1")
		w.WriteHeader(http.StatusTeapot)
		n, err := io.WriteString(w, "late")
		committed := w.(interface{ Committed() bool }).Committed()
		problem.Write(w, r, problem.New(catalog.Conflict, "late error")) // must write nothing
		late <- result{n, err, committed}
	})))
	rec := serve(h, http.MethodGet, "/")
	body := rec.Body.String()
	require.Equal(t, http.StatusGatewayTimeout, rec.Code)

	close(release)
	var got result
	select {
	case got = <-late:
	case <-time.After(5 * time.Second):
		t.Fatal("the handler did not finish after its release")
	}
	assert.ErrorIs(t, got.err, http.ErrHandlerTimeout, "Write after the deadline")
	assert.Zero(t, got.n, "bytes written after the deadline")
	assert.True(t, got.committed, "Committed() after the deadline")
	assert.Equal(t, http.StatusGatewayTimeout, rec.Code)
	assert.Equal(t, body, rec.Body.String(), "late writes must not reach the response")
	assert.NotContains(t, body, "early")
	assert.Empty(t, rec.Header().Get("X-Late"))
}

func TestTimeoutContextCanceledAtDeadline(t *testing.T) {
	rd, _ := newRenderer(t, problem.EnvelopeFlat)
	release := blocked(t)
	type result struct {
		err     error
		elapsed time.Duration
	}
	got := make(chan result, 1)
	start := time.Now()
	h := middleware.Recover(rd)(middleware.Timeout(testTimeout)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
		got <- result{r.Context().Err(), time.Since(start)}
		<-release // keep the handler from racing the 504
	})))
	rec := serve(h, http.MethodGet, "/")
	assert.Equal(t, http.StatusGatewayTimeout, rec.Code)
	var res result
	select {
	case res = <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("the handler's context was not canceled at the deadline")
	}
	assert.ErrorIs(t, res.err, context.DeadlineExceeded, "handler's ctx.Err()")
	assert.GreaterOrEqual(t, res.elapsed, testTimeout)
	assert.Less(t, res.elapsed, testTimeout+slack)
}

func TestTimeoutFastHandlerPassesThrough(t *testing.T) {
	tests := []struct {
		name     string
		handler  http.HandlerFunc
		wantCode int
		wantBody string
		header   map[string]string
	}{
		{"status headers body", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Location", "/v1/orders/1")
			w.WriteHeader(http.StatusCreated)
			_, _ = io.WriteString(w, `{"id":`)
			_, _ = io.WriteString(w, `1}`)
		}, http.StatusCreated, `{"id":1}`, map[string]string{"Content-Type": "application/json", "Location": "/v1/orders/1"}},
		{"implicit 200", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "hello")
		}, http.StatusOK, "hello", nil},
		{"nothing written", func(w http.ResponseWriter, r *http.Request) {}, http.StatusOK, "", nil},
		{"informational ignored", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusEarlyHints)
			w.WriteHeader(http.StatusAccepted)
		}, http.StatusAccepted, "", nil},
		{"second status ignored", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNoContent)
			w.WriteHeader(http.StatusInternalServerError)
		}, http.StatusNoContent, "", nil},
		{"request id kept", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, middleware.RequestIDFromContext(r.Context()))
		}, http.StatusOK, "client-id", map[string]string{middleware.HeaderRequestID: "client-id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rd, logs := newRenderer(t, problem.EnvelopeFlat)
			h := middleware.RequestID(middleware.Recover(rd)(middleware.Timeout(time.Minute)(tt.handler)))
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.Header.Set(middleware.HeaderRequestID, "client-id")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)

			assert.Equal(t, tt.wantCode, rec.Code)
			assert.Equal(t, tt.wantBody, rec.Body.String())
			for k, v := range tt.header {
				assert.Equal(t, v, rec.Header().Get(k), "header %s", k)
			}
			assert.Equal(t, "client-id", rec.Header().Get(middleware.HeaderRequestID))
			assert.Empty(t, logs.String())
		})
	}
}

func TestTimeoutHandlerErrorRendered(t *testing.T) {
	for _, env := range envelopes {
		t.Run(env, func(t *testing.T) {
			rd, _ := newRenderer(t, env)
			h := middleware.RequestID(middleware.Recover(rd)(middleware.Timeout(time.Minute)(
				middleware.Handle(func(w http.ResponseWriter, r *http.Request) error {
					return problem.New(catalog.NotFound, "No such order.")
				}))))
			rec := serve(h, http.MethodGet, "/v1/orders/1")
			b := requireError(t, rd, env, rec, http.StatusNotFound, catalog.NotFound)
			assert.Equal(t, "No such order.", b.Message)
			requireUUIDv4(t, rec.Header().Get(middleware.HeaderRequestID))
		})
	}
}

func TestTimeoutPanic(t *testing.T) {
	for _, env := range envelopes {
		t.Run(env, func(t *testing.T) {
			rd, logs := newRenderer(t, env)
			h := middleware.RequestID(middleware.Recover(rd)(middleware.Timeout(time.Minute)(http.HandlerFunc(
				func(w http.ResponseWriter, r *http.Request) {
					w.WriteHeader(http.StatusOK)
					_, _ = io.WriteString(w, "partial") // buffered: never reaches the client
					panic(secret)
				}))))
			rec := serve(h, http.MethodGet, "/")

			b := requireError(t, rd, env, rec, http.StatusInternalServerError, catalog.Internal)
			assert.NotContains(t, rec.Body.String(), "partial")
			assert.NotContains(t, rec.Body.String(), "hunter2")
			rec0 := logs.only(t)
			assert.Equal(t, "ERROR", rec0["level"])
			assert.Equal(t, b.ExcID, rec0["exc_id"])
			assert.Equal(t, secret, rec0["panic"])
			stack, _ := rec0["stack"].(string)
			assert.Contains(t, stack, "timeout_test.go", "the stack must be the handler goroutine's")
			assert.Regexp(t, `created by \S*Timeout`, stack, "the stack must be the handler goroutine's")
			assert.NotContains(t, stack, "testing.tRunner", "the stack must not be the serving goroutine's")
		})
	}
}

func TestTimeoutPanicValues(t *testing.T) {
	t.Run("ErrAbortHandler", func(t *testing.T) {
		rd, logs := newRenderer(t, problem.EnvelopeFlat)
		h := middleware.Recover(rd)(middleware.Timeout(time.Minute)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			panic(http.ErrAbortHandler)
		})))
		rec := httptest.NewRecorder()
		assert.PanicsWithValue(t, http.ErrAbortHandler, func() {
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		})
		assert.Empty(t, rec.Body.String())
		assert.Empty(t, logs.String())
	})
	t.Run("*problem.Error", func(t *testing.T) {
		rd, _ := newRenderer(t, problem.EnvelopeProblem)
		h := middleware.Recover(rd)(middleware.Timeout(time.Minute)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			panic(problem.New(catalog.Conflict, "Already paid."))
		})))
		rec := serve(h, http.MethodGet, "/")
		b := requireError(t, rd, problem.EnvelopeProblem, rec, http.StatusConflict, catalog.Conflict)
		assert.Equal(t, "Already paid.", b.Message)
	})
	t.Run("without Recover", func(t *testing.T) {
		h := middleware.Timeout(time.Minute)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			panic(secret)
		}))
		defer func() {
			v := recover()
			pe, ok := v.(*problem.PanicError)
			require.True(t, ok, "Timeout re-raised %T, want *problem.PanicError", v)
			assert.Equal(t, secret, pe.Value)
			assert.Contains(t, string(pe.Stack), "timeout_test.go")
		}()
		serve(h, http.MethodGet, "/")
		t.Error("Timeout swallowed the handler's panic")
	})
	t.Run("nested Timeout", func(t *testing.T) {
		rd, logs := newRenderer(t, problem.EnvelopeFlat)
		h := middleware.Recover(rd)(middleware.Timeout(time.Minute)(middleware.Timeout(time.Minute)(
			http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic(secret) }))))
		rec := serve(h, http.MethodGet, "/")
		requireError(t, rd, problem.EnvelopeFlat, rec, http.StatusInternalServerError, catalog.Internal)
		stack, _ := logs.only(t)["stack"].(string)
		assert.Contains(t, stack, "timeout_test.go", "the innermost handler's stack is kept")
	})
}

func TestTimeoutLatePanicLogged(t *testing.T) {
	rd, logs := newRenderer(t, problem.EnvelopeFlat)
	release := blocked(t)
	finished := make(chan struct{})
	h := middleware.Recover(rd)(middleware.Timeout(testTimeout)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(finished)
		<-release
		panic(secret)
	})))
	rec := serve(h, http.MethodGet, "/")
	require.Equal(t, http.StatusGatewayTimeout, rec.Code)
	close(release)
	select {
	case <-finished:
	case <-time.After(5 * time.Second):
		t.Fatal("the handler did not finish after its release")
	}
	// The panic nobody waits for any more is logged, and nothing written.
	var recs []map[string]any
	require.Eventually(t, func() bool {
		recs = logs.records(t)
		return len(recs) == 2
	}, 5*time.Second, time.Millisecond, "log records: %s", logs)
	assert.Equal(t, http.StatusGatewayTimeout, rec.Code)
	assert.Equal(t, catalog.DeadlineExceeded, recs[0]["code"])
	assert.Equal(t, "ERROR", recs[1]["level"])
	assert.Equal(t, secret, recs[1]["panic"])
	assert.Equal(t, true, recs[1]["committed"])
}

// spyWriter records every call that would reach the client.
type spyWriter struct {
	header http.Header
	calls  []string
}

func (s *spyWriter) Header() http.Header { return s.header }
func (s *spyWriter) Write(b []byte) (int, error) {
	s.calls = append(s.calls, "Write("+string(b)+")")
	return len(b), nil
}
func (s *spyWriter) WriteHeader(code int) { s.calls = append(s.calls, "WriteHeader") }

func TestTimeoutClientGone(t *testing.T) {
	for _, env := range envelopes {
		t.Run(env, func(t *testing.T) {
			rd, logs := newRenderer(t, env)
			release := blocked(t)
			started := make(chan struct{})
			h := middleware.RequestID(middleware.Recover(rd)(middleware.Timeout(time.Minute)(http.HandlerFunc(
				func(w http.ResponseWriter, r *http.Request) {
					close(started)
					<-release
				}))))
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			w := &spyWriter{header: http.Header{}}
			returned := make(chan struct{})
			go func() {
				defer close(returned)
				h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil).WithContext(ctx))
			}()
			<-started
			cancel()
			select {
			case <-returned:
			case <-time.After(5 * time.Second):
				t.Fatal("Timeout did not return after the client went away")
			}
			assert.Empty(t, w.calls, "nothing may be written for a client that went away")
			assert.Empty(t, w.header.Get("Content-Type"))
			rec0 := logs.only(t)
			assert.Equal(t, "DEBUG", rec0["level"])
			assert.Equal(t, "client went away", rec0["msg"])
		})
	}
}

func TestTimeoutMessageNamesDuration(t *testing.T) {
	rd, _ := newRenderer(t, problem.EnvelopeFlat)
	release := blocked(t)
	h := middleware.Recover(rd)(middleware.Timeout(20 * time.Millisecond)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
	})))
	rec := serve(h, http.MethodGet, "/")
	b := requireError(t, rd, problem.EnvelopeFlat, rec, http.StatusGatewayTimeout, catalog.DeadlineExceeded)
	assert.True(t, strings.HasSuffix(b.Message, "within 20ms."), "message %q", b.Message)
}

// TestTimeoutRecoverInside puts Recover inside Timeout, with no Recover
// outside it: what the inner Recover records about the buffered response
// must not make Timeout think the real response was committed.
func TestTimeoutRecoverInside(t *testing.T) {
	for _, env := range envelopes {
		t.Run(env, func(t *testing.T) {
			rd, _ := newRenderer(t, env)
			release := blocked(t)
			withRenderer := func(next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					next.ServeHTTP(w, r.WithContext(problem.NewContext(r.Context(), rd)))
				})
			}
			h := middleware.RequestID(withRenderer(middleware.Timeout(testTimeout)(middleware.Recover(nil)(http.HandlerFunc(
				func(w http.ResponseWriter, r *http.Request) {
					_, _ = io.WriteString(w, "partial") // buffered
					<-release
				})))))
			rec := serve(h, http.MethodGet, "/v1/slow")
			requireError(t, rd, env, rec, http.StatusGatewayTimeout, catalog.DeadlineExceeded)
		})
	}
}

// TestTimeoutHandlerAndTimeoutBothRender has the handler answer its
// canceled context with an error just as Timeout answers 504, with no
// RequestID to name the request beforehand: under -race this checks that
// the two goroutines share no request state.
func TestTimeoutHandlerAndTimeoutBothRender(t *testing.T) {
	rd, _ := newRenderer(t, problem.EnvelopeTracked)
	for range 20 {
		finished := make(chan struct{})
		h := middleware.Recover(rd)(middleware.Timeout(time.Millisecond)(middleware.Handle(
			func(w http.ResponseWriter, r *http.Request) error {
				defer close(finished)
				<-r.Context().Done()
				return r.Context().Err()
			})))
		rec := serve(h, http.MethodGet, "/")
		<-finished
		requireError(t, rd, problem.EnvelopeTracked, rec, http.StatusGatewayTimeout, catalog.DeadlineExceeded)
		requireUUIDv4(t, rec.Header().Get(middleware.HeaderRequestID))
	}
}

// TestTimeoutFlushIsNotACommit checks a Recover inside Timeout: the buffered
// writer cannot flush, so a Flush sends nothing and a later panic is still
// answered with a clean 500.
func TestTimeoutFlushIsNotACommit(t *testing.T) {
	rd, logs := newRenderer(t, problem.EnvelopeFlat)
	var flushErr error
	h := middleware.Recover(rd)(middleware.Timeout(time.Minute)(middleware.Recover(nil)(http.HandlerFunc(
		func(w http.ResponseWriter, r *http.Request) {
			flushErr = http.NewResponseController(w).Flush()
			panic(secret)
		}))))
	rec := serve(h, http.MethodGet, "/")
	assert.ErrorIs(t, flushErr, http.ErrNotSupported, "Flush under Timeout")
	b := requireError(t, rd, problem.EnvelopeFlat, rec, http.StatusInternalServerError, catalog.Internal)
	assert.Equal(t, b.ExcID, logs.only(t)["exc_id"])
}
