package middleware_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/problem"
)

// envelopes are the built-in envelope names; every test whose output shape
// matters runs once under each.
var envelopes = []string{
	problem.EnvelopeFlat,
	problem.EnvelopeGoogle,
	problem.EnvelopeTracked,
	problem.EnvelopeProblem,
}

// logBuffer collects JSON log lines; it is safe for concurrent use because
// the Timeout tests log from a handler goroutine too.
type logBuffer struct {
	mu  sync.Mutex // guards buf
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// records returns the logged records, oldest first.
func (b *logBuffer) records(t testing.TB) []map[string]any {
	t.Helper()
	var recs []map[string]any
	sc := bufio.NewScanner(bytes.NewReader([]byte(b.String())))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rec map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &rec), "log line %q", sc.Text())
		recs = append(recs, rec)
	}
	require.NoError(t, sc.Err())
	return recs
}

// only returns the single logged record, failing the test if there are
// more or fewer.
func (b *logBuffer) only(t testing.TB) map[string]any {
	t.Helper()
	recs := b.records(t)
	require.Len(t, recs, 1, "log records: %s", b.String())
	return recs[0]
}

// newRenderer returns a renderer for the named envelope logging JSON at
// DEBUG and above into the returned buffer.
func newRenderer(t testing.TB, env string) (*problem.Renderer, *logBuffer) {
	t.Helper()
	logs := new(logBuffer)
	rd, err := problem.NewRenderer(problem.Config{
		Envelope: env,
		Logger:   slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	require.NoError(t, err, "problem.NewRenderer(%q)", env)
	return rd, logs
}

// envCode is the code the named envelope shows for the catalog entry name:
// the flat code, the google status, the tracked code or the problem code.
func envCode(t testing.TB, rd *problem.Renderer, env, name string) string {
	t.Helper()
	c := rd.Catalog().Ref(name)
	require.NotNil(t, c, "catalog lacks %s", name)
	switch env {
	case problem.EnvelopeFlat:
		return c.Flat
	case problem.EnvelopeGoogle:
		return c.Google
	case problem.EnvelopeTracked:
		return c.Tracked
	default:
		return c.Name
	}
}

// errBody is what the tests read back from an error body, whatever its
// envelope.
type errBody struct {
	Code      string // flat code, google status, tracked code or problem code
	Status    int    // google and problem only
	Message   string // message, or the problem envelope's detail
	RequestID string // tracked and problem only
	ExcID     string // the exc_ id of a sanitized 500
}

var excIDPattern = regexp.MustCompile(`exc_[0-9a-z]{26}`)

// parseBody decodes an error body in the named envelope.
func parseBody(t testing.TB, env string, body []byte) errBody {
	t.Helper()
	var out errBody
	switch env {
	case problem.EnvelopeFlat:
		var v struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		}
		require.NoError(t, json.Unmarshal(body, &v), "flat body %s", body)
		out = errBody{Code: v.Code, Message: v.Message, ExcID: excIDPattern.FindString(v.Message)}
	case problem.EnvelopeGoogle:
		var v struct {
			Error struct {
				Code    int    `json:"code"`
				Status  string `json:"status"`
				Message string `json:"message"`
				Details []struct {
					Reason   string            `json:"reason"`
					Metadata map[string]string `json:"metadata"`
				} `json:"details"`
			} `json:"error"`
		}
		require.NoError(t, json.Unmarshal(body, &v), "google body %s", body)
		out = errBody{Code: v.Error.Status, Status: v.Error.Code, Message: v.Error.Message}
		require.NotNil(t, v.Error.Details, "google details must be an array: %s", body)
		for _, d := range v.Error.Details {
			if d.Reason == "ERROR_RECORDED" {
				out.ExcID = d.Metadata["id"]
			}
		}
	case problem.EnvelopeTracked:
		var v struct {
			Error struct {
				Code      string         `json:"code"`
				Message   string         `json:"message"`
				Details   map[string]any `json:"details"`
				RequestID string         `json:"request_id"`
			} `json:"error"`
		}
		require.NoError(t, json.Unmarshal(body, &v), "tracked body %s", body)
		require.NotNil(t, v.Error.Details, "tracked details must be an object: %s", body)
		out = errBody{Code: v.Error.Code, Message: v.Error.Message, RequestID: v.Error.RequestID}
		out.ExcID, _ = v.Error.Details["exc_id"].(string)
	case problem.EnvelopeProblem:
		var v struct {
			Status    int    `json:"status"`
			Detail    string `json:"detail"`
			Code      string `json:"code"`
			RequestID string `json:"request_id"`
			ExcID     string `json:"exc_id"`
		}
		require.NoError(t, json.Unmarshal(body, &v), "problem body %s", body)
		out = errBody{Code: v.Code, Status: v.Status, Message: v.Detail, RequestID: v.RequestID, ExcID: v.ExcID}
	default:
		t.Fatalf("parseBody: unknown envelope %q", env)
	}
	return out
}

// contentType is the Content-Type of the named envelope's error bodies.
func contentType(env string) string {
	if env == problem.EnvelopeProblem {
		return problem.ContentTypeProblem
	}
	return problem.ContentTypeJSON
}

// requireError checks that rec holds an error response with the given status
// and catalog code in the named envelope, and returns the parsed body.
func requireError(t testing.TB, rd *problem.Renderer, env string, rec *httptest.ResponseRecorder, status int, name string) errBody {
	t.Helper()
	require.Equal(t, status, rec.Code, "status; body %s", rec.Body)
	require.Equal(t, contentType(env), rec.Header().Get("Content-Type"), "Content-Type")
	b := parseBody(t, env, rec.Body.Bytes())
	require.Equal(t, envCode(t, rd, env, name), b.Code, "%s code; body %s", env, rec.Body)
	if b.Status != 0 {
		require.Equal(t, status, b.Status, "%s status member; body %s", env, rec.Body)
	}
	if env == problem.EnvelopeTracked || env == problem.EnvelopeProblem {
		require.Equal(t, rec.Header().Get("X-Request-Id"), b.RequestID,
			"%s request_id = body, want the X-Request-Id header", env)
	}
	return b
}

// serve runs h on a method request for target and returns the recorder.
func serve(h http.Handler, method, target string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	return rec
}

// okHandler writes a small JSON 200 with a custom header.
var okHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Handler", "ok")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(`{"ok":true}`))
})
