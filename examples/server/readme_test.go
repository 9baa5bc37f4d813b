package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/catalog"
	"github.com/faultline-go/faultline/middleware"
	"github.com/faultline-go/faultline/problem"
	"github.com/faultline-go/faultline/ratelimit"
)

// readmePath is the README whose examples TestREADMEExamples checks.
const readmePath = "../../README.md"

// readmeTargets are the handlers a "<!-- readme-check: NAME -->" block runs
// against instead of the demo, each built as the README's code for it
// builds it.
var readmeTargets = map[string]func(logger *slog.Logger) http.Handler{
	"quickstart": quickstartHandler,
}

// quickstartLines are the lines of the README's Quickstart program that its
// example response depends on; TestREADMEQuickstartCode holds the README to
// them, and quickstartHandler is built from them.
var quickstartLines = []string{
	`rd := problem.MustRenderer(problem.Config{Envelope: problem.EnvelopeGoogle, Prefix: "BLUM"})`,
	`r.Use(middleware.Stack(rd))`,
	`r.NotFound(middleware.NotFound)`,
	`r.MethodNotAllowed(middleware.MethodNotAllowed)`,
	`r.Get("/v1/accounts/{id}", middleware.Handle(func(w http.ResponseWriter, r *http.Request) error {`,
	`return problem.New(catalog.NotFound, "Account "+chi.URLParam(r, "id")+" not found.")`,
}

// quickstartHandler is the README's Quickstart program, logging to logger.
func quickstartHandler(logger *slog.Logger) http.Handler {
	rd := problem.MustRenderer(problem.Config{Envelope: problem.EnvelopeGoogle, Prefix: "BLUM", Logger: logger})
	r := chi.NewRouter()
	r.Use(middleware.Stack(rd))
	r.NotFound(middleware.NotFound)
	r.MethodNotAllowed(middleware.MethodNotAllowed)
	r.Get("/v1/accounts/{id}", middleware.Handle(func(w http.ResponseWriter, r *http.Request) error {
		return problem.New(catalog.NotFound, "Account "+chi.URLParam(r, "id")+" not found.")
	}))
	return r
}

// TestREADMEExamples sends every example request of README.md to the demo
// (or the handler its block names) and checks that the response, and the log
// record where one is shown, is the one README.md shows. The demo is built
// from its flags as run builds it, with the FAULTLINE_* variables unset and
// its rate limits in memory on a frozen clock. The format is described at
// the top of readme_parse_test.go.
func TestREADMEExamples(t *testing.T) {
	clearEnv(t)
	md, err := os.ReadFile(readmePath)
	require.NoError(t, err)
	transcripts, err := readmeTranscripts(string(md))
	require.NoError(t, err, "reading the examples of README.md")
	require.NotEmpty(t, transcripts, "README.md has no examples")
	for _, s := range transcripts {
		t.Run(fmt.Sprintf("README.md:%d", s.line), func(t *testing.T) { runTranscript(t, s) })
	}
}

func TestREADMEQuickstartCode(t *testing.T) {
	md, err := os.ReadFile(readmePath)
	require.NoError(t, err)
	_, quick, ok := strings.Cut(string(md), "\n## Quickstart\n")
	require.True(t, ok, "README.md has no Quickstart section")
	var code []string
	for _, f := range fences(quick) {
		if f.lang == "go" {
			for _, l := range f.lines {
				code = append(code, strings.TrimSpace(l))
			}
			break
		}
	}
	for _, l := range quickstartLines {
		assert.Contains(t, code, l, "README.md's Quickstart program lacks a line quickstartHandler is built from")
	}
}

// runTranscript runs s's requests, in order, against a fresh demo.
func runTranscript(t *testing.T, s transcript) {
	base, logs := startTarget(t, s)
	client := &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	for _, st := range s.steps {
		req := buildRequest(t, st.curl, base)
		resp, err := client.Do(req)
		require.NoError(t, err, "README.md:%d: %s %s", st.line, req.Method, req.URL)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		checkResponse(t, st, resp, body)
		if st.resp.logJSON != "" {
			checkLogRecord(t, st, logs, resp.Header.Get(problem.HeaderRequestID))
		}
	}
}

// startTarget serves s's target and returns its base URL and log.
func startTarget(t *testing.T, s transcript) (string, *syncBuffer) {
	t.Helper()
	if s.target != "" {
		h, ok := readmeTargets[s.target]
		require.True(t, ok, "README.md:%d: readme-check target %q is unknown", s.line, s.target)
		logs := new(syncBuffer)
		srv := httptest.NewServer(h(slog.New(slog.NewJSONHandler(logs, nil))))
		t.Cleanup(srv.Close)
		return srv.URL, logs
	}
	env := ""
	for _, st := range s.steps {
		e := envelopeOf(st.resp)
		require.True(t, env == "" || e == "" || e == env, "README.md:%d: one transcript shows the %s and %s envelopes", s.line, env, e)
		env = cmp(env, e)
	}
	flags := s.steps[0].curl.flags
	if i := slices.Index(flags, "-envelope"); i >= 0 && i+1 < len(flags) {
		require.True(t, env == "" || env == flags[i+1], "README.md:%d: -envelope %s, but the response shows the %s envelope",
			s.line, flags[i+1], env)
		env = ""
	}
	args := flags
	if env != "" {
		args = append(args[:len(args):len(args)], "-envelope", env)
	}
	noEnv := func(string) (string, bool) { return "", false }
	opts, err := parseFlags(args, io.Discard, noEnv)
	require.NoError(t, err, "README.md:%d: demo flags %q", s.line, args)
	require.Empty(t, opts.redisURL, "README.md:%d: the check keeps limits in memory", s.line)
	logs := new(syncBuffer)
	sc := opts.server
	sc.Problem.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	// Limits on a frozen clock: a transcript's requests fall in one instant,
	// as the README's quick succession of requests does, however slowly
	// the machine runs them.
	mem := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{})
	t.Cleanup(func() { _ = mem.Close() })
	sc.Store = frozenStore{mem, time.Unix(1_800_000_000, 0)}
	h, err := newServer(sc)
	require.NoError(t, err, "README.md:%d: newServer", s.line)
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		_ = h.Close()
	})
	return srv.URL, logs
}

func cmp(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// envelopeOf names the envelope a response shows, or "" when it shows none.
func envelopeOf(r respExample) string {
	for _, h := range r.header {
		if http.CanonicalHeaderKey(h[0]) == "Content-Type" && h[1] == problem.ContentTypeProblem {
			return problem.EnvelopeProblem
		}
	}
	var body struct {
		Code  any `json:"code"`
		Error *struct {
			Code    any `json:"code"`
			Details any `json:"details"`
		} `json:"error"`
	}
	if json.Unmarshal([]byte(r.body), &body) != nil {
		return ""
	}
	switch {
	case body.Error != nil:
		if _, ok := body.Error.Code.(float64); !ok {
			return problem.EnvelopeTracked
		}
		if ds, ok := body.Error.Details.([]any); ok && len(ds) > 0 {
			if d, ok := ds[0].(map[string]any); ok && d["@type"] != nil {
				return problem.EnvelopeGoogleStrict
			}
		}
		return problem.EnvelopeGoogle
	case body.Code != nil:
		return problem.EnvelopeFlat
	}
	return ""
}

// buildRequest makes c's request against base.
func buildRequest(t *testing.T, c curlCmd, base string) *http.Request {
	t.Helper()
	u, err := url.Parse(c.url)
	require.NoError(t, err, "curl URL %q", c.url)
	b, err := url.Parse(base)
	require.NoError(t, err)
	u.Scheme, u.Host = b.Scheme, b.Host
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	req, err := http.NewRequest(c.method, u.String(), body)
	require.NoError(t, err)
	if c.body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded") // what curl -d sends
	}
	for _, h := range c.header {
		req.Header.Set(h[0], h[1])
	}
	if user, pass, ok := strings.Cut(c.user, ":"); ok {
		req.SetBasicAuth(user, pass)
	}
	return req
}

// notShown are the headers a README response may leave out.
var notShown = []string{"Date", "Content-Length"}

// checkResponse compares the demo's response with the README's.
func checkResponse(t *testing.T, st step, resp *http.Response, body []byte) {
	t.Helper()
	at := fmt.Sprintf("README.md:%d", st.line)
	assert.Equal(t, st.resp.status, resp.Status, "%s: status", at)
	shown := map[string]bool{}
	for _, h := range st.resp.header {
		k := http.CanonicalHeaderKey(h[0])
		shown[k] = true
		got := strings.Join(resp.Header.Values(k), ", ")
		assert.Equal(t, normalizeText(h[1]), normalizeText(got), "%s: header %s", at, h[0])
	}
	if st.resp.elided {
		return
	}
	for k, vv := range resp.Header {
		if !shown[k] && !slices.Contains(notShown, k) {
			t.Errorf("%s: the README leaves out the header %s: %s", at, k, strings.Join(vv, ", "))
		}
	}
	var want, got any
	if json.Unmarshal([]byte(st.resp.body), &want) == nil && json.Unmarshal(body, &got) == nil {
		assert.Equal(t, normalize(want), normalize(got), "%s: body\nREADME: %s\ndemo:   %s", at, st.resp.body, body)
		return
	}
	assert.Equal(t, normalizeText(st.resp.body), normalizeText(strings.TrimSpace(string(body))), "%s: body", at)
}

// checkLogRecord compares the record logged for the request id with the
// README's.
func checkLogRecord(t *testing.T, st step, logs *syncBuffer, id string) {
	t.Helper()
	var want map[string]any
	require.NoError(t, json.Unmarshal([]byte(st.resp.logJSON), &want), "README.md:%d: the log record is not JSON", st.line)
	for _, rec := range logs.records(t) {
		if rec["request_id"] == id && rec["msg"] == want["msg"] {
			assert.Equal(t, normalize(want), normalize(rec), "README.md:%d: log record", st.line)
			return
		}
	}
	t.Errorf("README.md:%d: the demo logged no %q record for request %s; log:\n%s", st.line, want["msg"], id, logs.String())
}

var (
	uuidRE = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	excRE  = regexp.MustCompile(`exc_[0-9a-hjkmnp-tv-z]{26}`)
	timeRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$`)
)

// normalizeText replaces request ids, exc_ ids and timestamps with
// placeholders.
func normalizeText(s string) string {
	if timeRE.MatchString(s) {
		return "<timestamp>"
	}
	s = uuidRE.ReplaceAllString(s, "<request-id>")
	return excRE.ReplaceAllString(s, "<exc-id>")
}

// normalize applies normalizeText to every string of a decoded JSON value.
func normalize(v any) any {
	switch x := v.(type) {
	case string:
		return normalizeText(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalize(e)
		}
		return out
	}
	return v
}
