package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/problem"
)

// envelopes are the four built-in envelopes every end-to-end test runs in.
var envelopes = []string{problem.EnvelopeFlat, problem.EnvelopeGoogle, problem.EnvelopeTracked, problem.EnvelopeProblem}

// code is one catalog code as each envelope spells it. The google status and
// the problem code are the catalog name.
type code struct {
	name    string
	flat    string
	tracked string
}

// in returns the code the given envelope carries.
func (c code) in(envelope string) string {
	switch envelope {
	case problem.EnvelopeFlat:
		return c.flat
	case problem.EnvelopeTracked:
		return c.tracked
	}
	return c.name
}

// The codes the demo answers with, spelled out rather than looked up, so a
// change in the catalog shows up here.
var (
	codeInvalidArgument  = code{"INVALID_ARGUMENT", "BLUM-400-001", "INVALID_REQUEST"}
	codeMissingField     = code{"MISSING_FIELD", "BLUM-400-002", "INVALID_REQUEST"}
	codeInvalidFormat    = code{"INVALID_FORMAT", "BLUM-400-003", "INVALID_REQUEST"}
	codeNotFound         = code{"NOT_FOUND", "BLUM-404-001", "NOT_FOUND"}
	codeMethodNotAllowed = code{"METHOD_NOT_ALLOWED", "BLUM-405-001", "METHOD_NOT_ALLOWED"}
	codeDuplicateOrder   = code{"DUPLICATE_ORDER", "BLUM-409-002", "CONFLICT"}
	codePayloadTooLarge  = code{"PAYLOAD_TOO_LARGE", "BLUM-413-001", "PAYLOAD_TOO_LARGE"}
	codeUnsupportedMedia = code{"UNSUPPORTED_MEDIA_TYPE", "BLUM-415-001", "UNSUPPORTED_MEDIA_TYPE"}
	codeFailedPrecond    = code{"FAILED_PRECONDITION", "BLUM-422-001", "VALIDATION_ERROR"}
	codeInternal         = code{"INTERNAL", "BLUM-500-001", "INTERNAL_ERROR"}
	codeUnavailable      = code{"UNAVAILABLE", "BLUM-503-001", "SERVICE_UNAVAILABLE"}
	codeDeadlineExceeded = code{"DEADLINE_EXCEEDED", "BLUM-504-001", "TIMEOUT"}
)

var (
	excIDPattern = regexp.MustCompile(`exc_[0-9a-z]{26}`)
	uuidPattern  = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
)

// syncBuffer is a bytes.Buffer that the server's goroutines may write while
// the test reads it.
type syncBuffer struct {
	mu  sync.Mutex // guards buf
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// records parses the JSON log records written so far.
func (b *syncBuffer) records(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(b.String()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rec map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &rec), "log line %q is not JSON", sc.Text())
		out = append(out, rec)
	}
	require.NoError(t, sc.Err())
	return out
}

// find returns the first log record whose key equals value, or nil.
func (b *syncBuffer) find(t *testing.T, key, value string) map[string]any {
	t.Helper()
	for _, rec := range b.records(t) {
		if rec[key] == value {
			return rec
		}
	}
	return nil
}

// testServer is the demo served over a real socket.
type testServer struct {
	envelope string
	url      string
	client   *http.Client
	logs     *syncBuffer
}

// startServer serves newServer in envelope with prefix BLUM and a JSON
// logger writing to the returned server's logs.
func startServer(t *testing.T, envelope string, maintenance bool) *testServer {
	t.Helper()
	return startServerWith(t, envelope, func(cfg *serverConfig) {
		cfg.Maintenance = maintenance
		// Far above what a test sends: the rate limit tests set their own.
		cfg.Rate = 1_000_000
	})
}

// startServerWith is startServer with the configuration adjusted by edit.
func startServerWith(t *testing.T, envelope string, edit func(*serverConfig)) *testServer {
	t.Helper()
	logs := new(syncBuffer)
	cfg := serverConfig{
		Problem: problem.Config{
			Envelope: envelope,
			Prefix:   "BLUM",
			Logger:   slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		},
	}
	edit(&cfg)
	h, err := newServer(cfg)
	require.NoError(t, err, "newServer(%s) = _, %v, want nil", envelope, err)
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		assert.NoError(t, h.Close())
	})
	client := srv.Client()
	client.Timeout = 10 * time.Second
	return &testServer{envelope: envelope, url: srv.URL, client: client, logs: logs}
}

// request builds a request to the server, authenticated as the first demo
// key pair. A body is sent as application/json unless header sets another
// Content-Type; a header given as "" is removed.
func (s *testServer) request(t *testing.T, method, path, body string, header map[string]string) *http.Request {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.url+path, rd)
	require.NoError(t, err, "http.NewRequest(%s, %.80q) = %v", method, path, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.SetBasicAuth(defaultKeys[0].key, defaultKeys[0].secret)
	for k, v := range header {
		if v == "" {
			req.Header.Del(k)
			continue
		}
		req.Header.Set(k, v)
	}
	return req
}

// send performs req and returns the response with its body read. Every
// response, success or error, must carry an X-Request-Id.
func (s *testServer) send(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := s.client.Do(req)
	require.NoError(t, err, "%s %.80s: %v", req.Method, req.URL.Path, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err, "%s %.80s: reading the body: %v", req.Method, req.URL.Path, err)
	assert.NotEmpty(t, resp.Header.Get(problem.HeaderRequestID), "%s %.80s: X-Request-Id = \"\", want an id", req.Method, req.URL.Path)
	return resp, body
}

// do builds and sends a request.
func (s *testServer) do(t *testing.T, method, path, body string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	return s.send(t, s.request(t, method, path, body, header))
}

// errorBody is what the tests read from an error response, whatever the
// envelope.
type errorBody struct {
	Code      string   // flat code, google status, tracked code or problem code
	Message   string   // message, or the problem envelope's detail
	Fields    []string // fields named in the details; nil for flat
	RequestID string   // request id in the body; "" for flat and google
	ExcID     string   // exc_ id of a sanitized 500
}

// contentType is the Content-Type of an envelope's error responses.
func contentType(envelope string) string {
	if envelope == problem.EnvelopeProblem {
		return problem.ContentTypeProblem
	}
	return problem.ContentTypeJSON
}

// keysOf returns the sorted keys of a JSON object.
func keysOf(t *testing.T, raw json.RawMessage) []string {
	t.Helper()
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(raw, &m), "%.200s is not a JSON object", raw)
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// parseError checks that resp is an error in the server's envelope, with
// every member the envelope promises, and returns what it says.
func (s *testServer) parseError(t *testing.T, resp *http.Response, body []byte) errorBody {
	t.Helper()
	where := resp.Request.Method + " " + truncate(resp.Request.URL.Path)
	assert.Equal(t, contentType(s.envelope), resp.Header.Get("Content-Type"), "%s: Content-Type", where)
	assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"), "%s: X-Content-Type-Options", where)
	require.True(t, json.Valid(body), "%s: body %.300q is not valid JSON", where, body)
	headerID := resp.Header.Get(problem.HeaderRequestID)

	var out errorBody
	switch s.envelope {
	case problem.EnvelopeFlat:
		require.Equal(t, []string{"code", "message"}, keysOf(t, body), "%s: flat body %s members", where, body)
		var b struct{ Code, Message string }
		require.NoError(t, json.Unmarshal(body, &b))
		out = errorBody{Code: b.Code, Message: b.Message, ExcID: excIDPattern.FindString(b.Message)}

	case problem.EnvelopeGoogle:
		require.Equal(t, []string{"error"}, keysOf(t, body), "%s: google body %s members", where, body)
		var raw struct{ Error json.RawMessage }
		require.NoError(t, json.Unmarshal(body, &raw))
		require.Equal(t, []string{"code", "details", "message", "status"}, keysOf(t, raw.Error), "%s: google error %s members", where, raw.Error)
		var b struct {
			Error struct {
				Code    int
				Status  string
				Message string
				Details []struct {
					Reason      string
					Description string
					Metadata    map[string]string
				}
			}
		}
		require.NoError(t, json.Unmarshal(body, &b))
		assert.Equal(t, resp.StatusCode, b.Error.Code, "%s: google error.code", where)
		assert.NotNil(t, b.Error.Details, "%s: google error.details = null, want an array", where)
		out = errorBody{Code: b.Error.Status, Message: b.Error.Message}
		for _, d := range b.Error.Details {
			assert.NotEmpty(t, d.Reason, "%s: google details[].reason is empty in %s", where, body)
			if f := d.Metadata["field"]; f != "" {
				out.Fields = append(out.Fields, f)
			}
			if d.Reason == "ERROR_RECORDED" {
				out.ExcID = d.Metadata["id"]
			}
		}
		if len(b.Error.Details) == 1 && out.Fields == nil && out.ExcID == "" {
			assert.Equal(t, b.Error.Status, b.Error.Details[0].Reason, "%s: google single-cause details[0].reason", where)
		}

	case problem.EnvelopeTracked:
		require.Equal(t, []string{"error"}, keysOf(t, body), "%s: tracked body %s members", where, body)
		var raw struct{ Error json.RawMessage }
		require.NoError(t, json.Unmarshal(body, &raw))
		require.Equal(t, []string{"code", "details", "message", "request_id", "timestamp"}, keysOf(t, raw.Error), "%s: tracked error %s members", where, raw.Error)
		var b struct {
			Error struct {
				Code      string
				Message   string
				Details   map[string]json.RawMessage
				RequestID string `json:"request_id"`
				Timestamp string
			}
		}
		require.NoError(t, json.Unmarshal(body, &b))
		require.NotNil(t, b.Error.Details, "%s: tracked error.details = null, want an object", where)
		ts, err := time.Parse(time.RFC3339Nano, b.Error.Timestamp)
		assert.NoError(t, err, "%s: tracked timestamp %q is not RFC 3339", where, b.Error.Timestamp)
		assert.True(t, strings.HasSuffix(b.Error.Timestamp, "Z"), "%s: tracked timestamp %q, want UTC", where, b.Error.Timestamp)
		assert.WithinDuration(t, time.Now(), ts, time.Minute, "%s: tracked timestamp", where)
		assert.Equal(t, headerID, b.Error.RequestID, "%s: tracked request_id, want the X-Request-Id header", where)
		out = errorBody{Code: b.Error.Code, Message: b.Error.Message, RequestID: b.Error.RequestID}
		if raw, ok := b.Error.Details["fields"]; ok {
			var fields []struct{ Field, Reason, Message string }
			require.NoError(t, json.Unmarshal(raw, &fields), "%s: tracked details.fields %s", where, raw)
			for _, f := range fields {
				out.Fields = append(out.Fields, f.Field)
			}
		}
		if raw, ok := b.Error.Details["exc_id"]; ok {
			require.NoError(t, json.Unmarshal(raw, &out.ExcID), "%s: tracked details.exc_id %s", where, raw)
		}

	case problem.EnvelopeProblem:
		keys := keysOf(t, body)
		for _, k := range []string{"type", "title", "status", "detail", "instance", "code", "request_id", "errors"} {
			assert.Contains(t, keys, k, "%s: problem body %s lacks %q", where, body, k)
		}
		var b struct {
			Type, Title    string
			Status         int
			Detail         string
			Instance, Code string
			RequestID      string `json:"request_id"`
			ExcID          string `json:"exc_id"`
			Errors         []struct{ Field, Reason, Message string }
		}
		require.NoError(t, json.Unmarshal(body, &b))
		assert.NotNil(t, b.Errors, "%s: problem errors = null, want an array", where)
		wantType, wantTitle := "about:blank", http.StatusText(resp.StatusCode)
		if resp.StatusCode == http.StatusTooManyRequests {
			wantType, wantTitle = problem.TypeQuotaExceeded, "Request cannot be satisfied as assigned quota has been exceeded"
		}
		assert.Equal(t, wantType, b.Type, "%s: problem type", where)
		assert.Equal(t, wantTitle, b.Title, "%s: problem title", where)
		assert.Equal(t, resp.StatusCode, b.Status, "%s: problem status", where)
		assert.Equal(t, resp.Request.URL.EscapedPath(), b.Instance, "%s: problem instance", where)
		assert.Equal(t, headerID, b.RequestID, "%s: problem request_id, want the X-Request-Id header", where)
		out = errorBody{Code: b.Code, Message: b.Detail, RequestID: b.RequestID, ExcID: b.ExcID}
		for _, e := range b.Errors {
			out.Fields = append(out.Fields, e.Field)
		}

	default:
		t.Fatalf("unknown envelope %q", s.envelope)
	}
	assert.NotEmpty(t, out.Message, "%s: empty message in %s", where, body)
	return out
}

// checkError checks that resp is a status error with code in the server's
// envelope and returns what it says.
func (s *testServer) checkError(t *testing.T, resp *http.Response, body []byte, status int, want code) errorBody {
	t.Helper()
	where := resp.Request.Method + " " + truncate(resp.Request.URL.Path)
	require.Equal(t, status, resp.StatusCode, "%s: status = %d, want %d; body %.300s", where, resp.StatusCode, status, body)
	got := s.parseError(t, resp, body)
	assert.Equal(t, want.in(s.envelope), got.Code, "%s: %s code = %q, want %q", where, s.envelope, got.Code, want.in(s.envelope))
	return got
}

// checkFields checks that an error names fields: in the details, or in the
// message of the flat envelope, which has no details.
func (s *testServer) checkFields(t *testing.T, got errorBody, fields []string) {
	t.Helper()
	if s.envelope == problem.EnvelopeFlat {
		for _, f := range fields {
			assert.Contains(t, strings.ToLower(got.Message), f, "flat message %q, want it to name %q", got.Message, f)
		}
		return
	}
	assert.Equal(t, fields, got.Fields, "%s fields = %q, want %q", s.envelope, got.Fields, fields)
}

// checkJSON checks a success response: status, JSON content type and body.
func checkJSON(t *testing.T, resp *http.Response, body []byte, status int, dst any) {
	t.Helper()
	where := resp.Request.Method + " " + truncate(resp.Request.URL.Path)
	require.Equal(t, status, resp.StatusCode, "%s: status = %d, want %d; body %.300s", where, resp.StatusCode, status, body)
	assert.Equal(t, problem.ContentTypeJSON, resp.Header.Get("Content-Type"), "%s: Content-Type", where)
	require.NoError(t, json.Unmarshal(body, dst), "%s: body %.300q", where, body)
}

func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
