package problem_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/faultline-go/faultline/catalog"
	"github.com/faultline-go/faultline/internal/reqctx"
	"github.com/faultline-go/faultline/middleware"
	"github.com/faultline-go/faultline/problem"
)

// discardWriter is a ResponseWriter that keeps nothing but its header map,
// so a benchmark measures the renderer and not the recorder.
type discardWriter struct {
	header http.Header
	status int
	n      int
}

func (w *discardWriter) Header() http.Header  { return w.header }
func (w *discardWriter) WriteHeader(code int) { w.status = code }
func (w *discardWriter) Write(b []byte) (int, error) {
	w.n += len(b)
	return len(b), nil
}

// reset readies w for the next response, keeping the header map's storage.
func (w *discardWriter) reset() {
	clear(w.header)
	w.status, w.n = 0, 0
}

// benchRenderer returns a renderer for env whose logging costs nothing.
func benchRenderer(b *testing.B, env string) *problem.Renderer {
	b.Helper()
	rd, err := problem.NewRenderer(problem.Config{
		Envelope: env,
		Logger:   slog.New(slog.DiscardHandler),
	})
	if err != nil {
		b.Fatalf("NewRenderer(%q) = %v, want nil", env, err)
	}
	return rd
}

func benchWrite(b *testing.B, env string, err error, wantStatus int) {
	rd := benchRenderer(b, env)
	r := httptest.NewRequest(http.MethodGet, "/orders/42", nil)
	w := &discardWriter{header: make(http.Header, 8)}
	b.ReportAllocs()
	for b.Loop() {
		w.reset()
		rd.Write(w, r, err)
	}
	if w.status != wantStatus || w.n == 0 {
		b.Fatalf("Write(%v) status %d with %d bytes, want %d with a body", err, w.status, w.n, wantStatus)
	}
}

// BenchmarkRender renders a 404 in each envelope.
func BenchmarkRender(b *testing.B) {
	err := problem.New(catalog.NotFound, "Order 42 not found.")
	for _, env := range envelopes {
		b.Run(env, func(b *testing.B) { benchWrite(b, env, err, http.StatusNotFound) })
	}
}

// BenchmarkRender500 renders a plain error, sanitized to a 500 with an exc_
// id, in each envelope.
func BenchmarkRender500(b *testing.B) {
	err := errors.New("db: connection refused (password=hunter2)")
	for _, env := range envelopes {
		b.Run(env, func(b *testing.B) { benchWrite(b, env, err, http.StatusInternalServerError) })
	}
}

// BenchmarkRenderWithRequestID renders BenchmarkRender's 404 for a request
// that went through middleware.RequestID, as in a full stack: the id is
// already made, so the renderer makes none.
func BenchmarkRenderWithRequestID(b *testing.B) {
	err := problem.New(catalog.NotFound, "Order 42 not found.")
	for _, env := range envelopes {
		b.Run(env, func(b *testing.B) {
			rd := benchRenderer(b, env)
			var r *http.Request
			in := httptest.NewRequest(http.MethodGet, "/orders/42", nil)
			in.Header.Set(problem.HeaderRequestID, testRequestID)
			middleware.RequestID(http.HandlerFunc(func(_ http.ResponseWriter, req *http.Request) { r = req })).
				ServeHTTP(httptest.NewRecorder(), in)
			idHeader := []string{testRequestID}
			w := &discardWriter{header: make(http.Header, 8)}
			b.ReportAllocs()
			for b.Loop() {
				w.reset()
				w.header[problem.HeaderRequestID] = idHeader // what RequestID sets
				rd.Write(w, r, err)
			}
			if w.status != http.StatusNotFound {
				b.Fatalf("Write status %d, want 404", w.status)
			}
		})
	}
}

// Shapes of the four envelopes for encoding/json, for comparison.
type (
	flatJSON struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	googleDetailJSON struct {
		Reason   string            `json:"reason"`
		Metadata map[string]string `json:"metadata,omitempty"`
	}
	googleJSON struct {
		Error struct {
			Code    int                `json:"code"`
			Status  string             `json:"status"`
			Message string             `json:"message"`
			Details []googleDetailJSON `json:"details"`
		} `json:"error"`
	}
	trackedJSON struct {
		Error struct {
			Code      string            `json:"code"`
			Message   string            `json:"message"`
			Details   map[string]string `json:"details"`
			RequestID string            `json:"request_id"`
			Timestamp time.Time         `json:"timestamp"`
		} `json:"error"`
	}
	violationJSON struct {
		Field   string `json:"field"`
		Reason  string `json:"reason"`
		Message string `json:"message"`
	}
	problemJSON struct {
		Type      string          `json:"type"`
		Title     string          `json:"title"`
		Status    int             `json:"status"`
		Detail    string          `json:"detail"`
		Instance  string          `json:"instance"`
		Code      string          `json:"code"`
		RequestID string          `json:"request_id"`
		Errors    []violationJSON `json:"errors"`
	}
)

// BenchmarkEncodingJSON builds the body of BenchmarkRender's 404 with
// encoding/json and writes it, with the same headers, to the same writer: the
// same work as the renderer, request id and timestamp included.
func BenchmarkEncodingJSON(b *testing.B) {
	const (
		msg  = "Order 42 not found."
		path = "/orders/42"
	)
	code := catalog.MustNew("").Ref(catalog.NotFound)
	build := map[string]func(id string) any{
		problem.EnvelopeFlat: func(string) any {
			return &flatJSON{Code: code.Flat, Message: msg}
		},
		problem.EnvelopeGoogle: func(string) any {
			v := new(googleJSON)
			v.Error.Code, v.Error.Status, v.Error.Message = code.Status, code.Google, msg
			v.Error.Details = []googleDetailJSON{{Reason: code.Google}}
			return v
		},
		problem.EnvelopeTracked: func(id string) any {
			v := new(trackedJSON)
			v.Error.Code, v.Error.Message, v.Error.Details = code.Tracked, msg, map[string]string{}
			v.Error.RequestID, v.Error.Timestamp = id, time.Now().UTC()
			return v
		},
		problem.EnvelopeProblem: func(id string) any {
			return &problemJSON{Type: "about:blank", Title: http.StatusText(code.Status), Status: code.Status,
				Detail: msg, Instance: path, Code: code.Name, RequestID: id, Errors: []violationJSON{}}
		},
	}
	for _, env := range envelopes {
		ct := problem.ContentTypeJSON
		if env == problem.EnvelopeProblem {
			ct = problem.ContentTypeProblem
		}
		b.Run(env, func(b *testing.B) {
			w := &discardWriter{header: make(http.Header, 8)}
			b.ReportAllocs()
			for b.Loop() {
				w.reset()
				id := reqctx.NewRequestID() // as the renderer does without RequestID middleware
				body, err := json.Marshal(build[env](id))
				if err != nil {
					b.Fatal(err)
				}
				h := w.Header()
				h.Set("X-Request-Id", id)
				h.Set("Content-Type", ct)
				h.Set("X-Content-Type-Options", "nosniff")
				w.WriteHeader(code.Status)
				_, _ = w.Write(body)
			}
		})
	}
}

// BenchmarkRenderObserved renders BenchmarkRender's 404 in the problem
// envelope without an observer and with one, for the observer's cost; the
// log limit is off so that every error goes the same way.
func BenchmarkRenderObserved(b *testing.B) {
	err := problem.New(catalog.NotFound, "Order 42 not found.")
	var n int
	for _, bm := range []struct {
		name string
		obs  problem.ErrorObserver
	}{
		{"none", nil},
		{"observer", func(_ context.Context, ev problem.ErrorEvent) { n += ev.Status }},
	} {
		b.Run(bm.name, func(b *testing.B) {
			rd, rerr := problem.NewRenderer(problem.Config{
				Logger:         slog.New(slog.DiscardHandler),
				ClientLogLimit: problem.NoLogLimit,
				Observer:       bm.obs,
			})
			if rerr != nil {
				b.Fatal(rerr)
			}
			r := httptest.NewRequest(http.MethodGet, "/orders/42", nil)
			r.Header.Set(problem.HeaderTraceparent, testTraceparent)
			r = r.WithContext(problem.WithRequestStart(r.Context(), time.Now()))
			w := &discardWriter{header: make(http.Header, 8)}
			b.ReportAllocs()
			for b.Loop() {
				w.reset()
				rd.Write(w, r, err)
			}
		})
	}
}

// BenchmarkRenderLogged renders BenchmarkRender's 404 in the problem
// envelope with a JSON logger writing to io.Discard: every record written
// (NoLogLimit), and past the client-error limit, where the record is
// counted instead of built.
func BenchmarkRenderLogged(b *testing.B) {
	err := problem.New(catalog.NotFound, "Order 42 not found.")
	for _, bm := range []struct {
		name  string
		limit int
	}{{"every record", problem.NoLogLimit}, {"limited", 0}} {
		b.Run(bm.name, func(b *testing.B) {
			rd, rerr := problem.NewRenderer(problem.Config{
				Logger:         slog.New(slog.NewJSONHandler(io.Discard, nil)),
				ClientLogLimit: bm.limit,
			})
			if rerr != nil {
				b.Fatal(rerr)
			}
			r := httptest.NewRequest(http.MethodGet, "/orders/42", nil)
			w := &discardWriter{header: make(http.Header, 8)}
			b.ReportAllocs()
			for b.Loop() {
				w.reset()
				rd.Write(w, r, err)
			}
		})
	}
}
