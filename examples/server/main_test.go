package main

import (
	"context"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/catalog"
	"github.com/faultline-go/faultline/problem"
	"github.com/faultline-go/faultline/ratelimit"
)

// clearEnv blanks the FAULTLINE_* variables for the test, so the caller's
// environment cannot change what run does. Blank counts as unset.
func clearEnv(t *testing.T) {
	t.Helper()
	for _, k := range []string{problem.EnvEnvelope, problem.EnvPrefix, problem.EnvTypeBaseURI,
		problem.EnvClientErrorLevel, problem.EnvServerErrorLevel} {
		t.Setenv(k, "")
	}
}

// running is a run call serving in the background.
type running struct {
	addr   string
	stderr *syncBuffer
	cancel context.CancelFunc
	errc   chan error
}

// startRun calls run with args and waits until it serves.
func startRun(t *testing.T, args ...string) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	rn := &running{stderr: new(syncBuffer), cancel: cancel, errc: make(chan error, 1)}
	ready := make(chan string, 1)
	go func() { rn.errc <- run(ctx, args, rn.stderr, ready) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-rn.errc:
		case <-time.After(15 * time.Second):
		}
	})
	select {
	case rn.addr = <-ready:
	case err := <-rn.errc:
		rn.errc <- err
		t.Fatalf("run(%q) = %v before serving, want it to serve", args, err)
	case <-time.After(10 * time.Second):
		t.Fatalf("run(%q) did not start serving within 10s", args)
	}
	return rn
}

// stop cancels run's context and returns what run returned.
func (rn *running) stop(t *testing.T) error {
	t.Helper()
	rn.cancel()
	select {
	case err := <-rn.errc:
		rn.errc <- err // for the cleanup
		return err
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return within 15s of its context being canceled")
		return nil
	}
}

// get fetches path from the running server, as the first demo key pair.
func (rn *running) get(t *testing.T, path string) (*http.Response, []byte) {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	req, err := http.NewRequest(http.MethodGet, "http://"+rn.addr+path, nil)
	require.NoError(t, err)
	req.SetBasicAuth(defaultKeys[0].key, defaultKeys[0].secret)
	resp, err := client.Do(req)
	require.NoError(t, err, "GET %s: %v", path, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, body
}

func TestRun(t *testing.T) {
	clearEnv(t)
	rn := startRun(t, "-addr", "127.0.0.1:0", "-envelope", "tracked")
	assert.True(t, strings.HasPrefix(rn.addr, "127.0.0.1:") && !strings.HasSuffix(rn.addr, ":0"),
		"run sent the address %q on ready, want the bound 127.0.0.1 address", rn.addr)

	resp, body := rn.get(t, "/v1/accounts/acc_2")
	s := &testServer{envelope: problem.EnvelopeTracked}
	got := s.checkError(t, resp, body, 404, codeNotFound)
	assert.Equal(t, resp.Header.Get(problem.HeaderRequestID), got.RequestID, "GET /v1/accounts/acc_2 request_id")

	require.NoError(t, rn.stop(t), "run(...) after cancel = error, want nil")

	_, err := (&http.Client{Timeout: 2 * time.Second}).Get("http://" + rn.addr + "/healthz")
	assert.Error(t, err, "GET /healthz after shutdown succeeded, want the listener closed")

	listening := rn.stderr.find(t, "msg", "listening")
	require.NotNil(t, listening, "run wrote no listening record; stderr:\n%s", rn.stderr.String())
	assert.Equal(t, rn.addr, listening["addr"], "listening record addr")
	assert.Equal(t, "tracked", listening["envelope"], "listening record envelope")
	assert.Equal(t, "BLUM", listening["prefix"], "listening record prefix")
	client := rn.stderr.find(t, "msg", "client error")
	require.NotNil(t, client, "run logged no client error for the 404; stderr:\n%s", rn.stderr.String())
	assert.Equal(t, "INFO", client["level"], "client error level")
}

func TestRunErrors(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		is      error    // errors.Is target, when set
		mention []string // substrings of the error
	}{
		{name: "unknown envelope", args: []string{"-addr", "127.0.0.1:0", "-envelope", "xml"},
			is: problem.ErrUnknownEnvelope, mention: []string{`"xml"`, "flat", "google", "problem", "tracked"}},
		{name: "unknown envelope from the environment", env: map[string]string{problem.EnvEnvelope: "xml"},
			args: []string{"-addr", "127.0.0.1:0"},
			is:   problem.ErrUnknownEnvelope, mention: []string{problem.EnvEnvelope, "flat", "google", "problem", "tracked"}},
		{name: "bad prefix", args: []string{"-addr", "127.0.0.1:0", "-prefix", "blum"},
			is: catalog.ErrInvalidPrefix, mention: []string{"blum"}},
		{name: "bad prefix from the environment", env: map[string]string{problem.EnvPrefix: "b-l"},
			args: []string{"-addr", "127.0.0.1:0"}, is: catalog.ErrInvalidPrefix, mention: []string{problem.EnvPrefix}},
		{name: "bad level from the environment", env: map[string]string{problem.EnvClientErrorLevel: "LOUD"},
			args: []string{"-addr", "127.0.0.1:0"}, is: problem.ErrInvalidConfig, mention: []string{problem.EnvClientErrorLevel}},
		{name: "relative type base URI", env: map[string]string{problem.EnvTypeBaseURI: "/problems"},
			args: []string{"-addr", "127.0.0.1:0"}, is: problem.ErrInvalidConfig, mention: []string{problem.EnvTypeBaseURI}},
		{name: "unexpected argument", args: []string{"-addr", "127.0.0.1:0", "serve"},
			mention: []string{"unexpected", "serve"}},
		{name: "key pair without secret", args: []string{"-addr", "127.0.0.1:0", "-keys", "a:b,c"},
			mention: []string{"-keys", "pair 2"}},
		{name: "unknown environment", args: []string{"-addr", "127.0.0.1:0", "-env", "staging"},
			is: ratelimit.ErrUnknownEnvironment, mention: []string{"staging", "sandbox", "production"}},
		{name: "negative rate", args: []string{"-addr", "127.0.0.1:0", "-rate", "-5"},
			mention: []string{"-rate"}},
		{name: "unknown outage policy", args: []string{"-addr", "127.0.0.1:0", "-redis-outage", "maybe"},
			mention: []string{"-redis-outage", "maybe"}},
		{name: "bad redis URL", args: []string{"-addr", "127.0.0.1:0", "-redis", "http://x"},
			mention: []string{"-redis", "redis://host:port/db"}},
		{name: "redis address without the URL form", args: []string{"-addr", "127.0.0.1:0", "-redis", "127.0.0.1:6379"},
			mention: []string{"-redis", `"127.0.0.1:6379"`, "redis://host:port/db"}},
		{name: "empty key pairs", args: []string{"-addr", "127.0.0.1:0", "-keys", ""},
			mention: []string{"-keys", "empty", "demo pairs"}},
		{name: "blank key pairs", args: []string{"-addr", "127.0.0.1:0", "-keys", "  "},
			mention: []string{"-keys", "empty"}},
		{name: "key pairs separated by semicolons", args: []string{"-addr", "127.0.0.1:0", "-keys", "a:b;c:d"},
			mention: []string{"-keys", "pair 1", "';'", "','"}},
		{name: "bad envelope flag beside a good variable", env: map[string]string{problem.EnvEnvelope: "flat"},
			args: []string{"-addr", "127.0.0.1:0", "-envelope", "xml"},
			is:   problem.ErrUnknownEnvelope, mention: []string{`"xml"`}},
		{name: "unknown flag", args: []string{"-port", "8080"}, mention: []string{"port"}},
		{name: "help", args: []string{"-h"}, is: flag.ErrHelp},
		{name: "bad address", args: []string{"-addr", "127.0.0.1:99999"}, mention: []string{"99999"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			ready := make(chan string, 1)
			var stderr syncBuffer
			err := run(ctx, tt.args, &stderr, ready)
			require.Error(t, err, "run(%q) = nil, want an error", tt.args)
			assert.Empty(t, ready, "run(%q) served before failing", tt.args)
			if tt.is != nil {
				assert.ErrorIs(t, err, tt.is, "run(%q) = %v, want %v", tt.args, err, tt.is)
			}
			for _, m := range tt.mention {
				assert.Contains(t, err.Error(), m, "run(%q) = %q, want it to mention %q", tt.args, err, m)
			}
		})
	}
}

func TestRunEnvironment(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		args  []string
		check func(t *testing.T, rn *running, resp *http.Response, body []byte)
	}{
		{
			name: "envelope from the environment",
			env:  map[string]string{problem.EnvEnvelope: "flat"},
			check: func(t *testing.T, rn *running, resp *http.Response, body []byte) {
				assert.JSONEq(t, `{"code":"BLUM-404-001","message":"Account not found."}`, string(body), "flat 404 body")
			},
		},
		{
			name: "flag beats the environment",
			env:  map[string]string{problem.EnvEnvelope: "flat"},
			args: []string{"-envelope", "google"},
			check: func(t *testing.T, rn *running, resp *http.Response, body []byte) {
				assert.JSONEq(t, `{"error":{"code":404,"status":"NOT_FOUND","message":"Account not found.","details":[{"reason":"NOT_FOUND"}]}}`,
					string(body), "google 404 body")
			},
		},
		{
			name: "envelope flag overrides a bad variable",
			env:  map[string]string{problem.EnvEnvelope: "xml"},
			args: []string{"-envelope", "flat"},
			check: func(t *testing.T, rn *running, resp *http.Response, body []byte) {
				assert.JSONEq(t, `{"code":"BLUM-404-001","message":"Account not found."}`, string(body), "flat 404 body")
			},
		},
		{
			name: "prefix flag overrides a bad variable",
			env:  map[string]string{problem.EnvEnvelope: "flat", problem.EnvPrefix: "b-l"},
			args: []string{"-prefix", "ACME"},
			check: func(t *testing.T, rn *running, resp *http.Response, body []byte) {
				assert.JSONEq(t, `{"code":"ACME-404-001","message":"Account not found."}`, string(body), "flat 404 body")
			},
		},
		{
			name: "default envelope is problem",
			check: func(t *testing.T, rn *running, resp *http.Response, body []byte) {
				assert.Equal(t, problem.ContentTypeProblem, resp.Header.Get("Content-Type"), "Content-Type")
			},
		},
		{
			name: "prefix from the environment",
			env:  map[string]string{problem.EnvEnvelope: "flat", problem.EnvPrefix: "ACME"},
			check: func(t *testing.T, rn *running, resp *http.Response, body []byte) {
				assert.JSONEq(t, `{"code":"ACME-404-001","message":"Account not found."}`, string(body), "flat 404 body")
				errs, md := rn.get(t, "/errors")
				require.Equal(t, 200, errs.StatusCode)
				assert.Contains(t, string(md), `"flat": "ACME-409-002"`, "GET /errors with prefix ACME")
			},
		},
		{
			name: "type base URI from the environment",
			env:  map[string]string{problem.EnvTypeBaseURI: "https://example.com/problems/"},
			check: func(t *testing.T, rn *running, resp *http.Response, body []byte) {
				var p struct{ Type, Title string }
				require.NoError(t, json.Unmarshal(body, &p))
				assert.Equal(t, "https://example.com/problems/not-found", p.Type, "problem type")
			},
		},
		{
			name: "client error level from the environment",
			env:  map[string]string{problem.EnvClientErrorLevel: "WARN"},
			check: func(t *testing.T, rn *running, resp *http.Response, body []byte) {
				rec := rn.stderr.find(t, "msg", "client error")
				require.NotNil(t, rec, "no client error record; stderr:\n%s", rn.stderr.String())
				assert.Equal(t, "WARN", rec["level"], "client error level")
			},
		},
		{
			name: "client errors below the level are not logged",
			env:  map[string]string{problem.EnvClientErrorLevel: "DEBUG"},
			check: func(t *testing.T, rn *running, resp *http.Response, body []byte) {
				assert.Nil(t, rn.stderr.find(t, "msg", "client error"), "client error logged at DEBUG by an INFO logger")
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			rn := startRun(t, append([]string{"-addr", "127.0.0.1:0"}, tt.args...)...)
			resp, body := rn.get(t, "/v1/accounts/acc_2")
			require.Equal(t, 404, resp.StatusCode, "GET /v1/accounts/acc_2 status; body %s", body)
			tt.check(t, rn, resp, body)
			require.NoError(t, rn.stop(t), "run(...) after cancel = error, want nil")
		})
	}
}

func TestRunMaintenanceFlag(t *testing.T) {
	clearEnv(t)
	rn := startRun(t, "-addr", "127.0.0.1:0", "-envelope", "google", "-maintenance")
	resp, body := rn.get(t, "/v1/accounts/acc_1")
	s := &testServer{envelope: problem.EnvelopeGoogle}
	s.checkError(t, resp, body, 503, codeUnavailable)
	assert.Equal(t, "60", resp.Header.Get(problem.HeaderRetryAfter), "Retry-After")
	resp, _ = rn.get(t, "/healthz")
	assert.Equal(t, 200, resp.StatusCode, "GET /healthz in maintenance")
	require.NoError(t, rn.stop(t))
}

func TestParseKeys(t *testing.T) {
	tests := []struct {
		in      string
		want    []keyPair
		wantErr string // in the error; "" for none
	}{
		{"", nil, ""},
		{"a:b", []keyPair{{"a", "b"}}, ""},
		{"a:b, c:d:e", []keyPair{{"a", "b"}, {"c", "d:e"}}, ""},
		{"a:b;c:d", nil, "pair 1 contains ';'"},
		{"a:b,c:d;", nil, "pair 2 contains ';'"},
		{"a:b,c", nil, "pair 2"},
		{":b", nil, "pair 1"},
		{"a:", nil, "pair 1"},
	}
	for _, tt := range tests {
		got, err := parseKeys(tt.in)
		if tt.wantErr != "" {
			assert.ErrorContains(t, err, tt.wantErr, "parseKeys(%q)", tt.in)
			continue
		}
		assert.NoError(t, err, "parseKeys(%q)", tt.in)
		assert.Equal(t, tt.want, got, "parseKeys(%q)", tt.in)
	}
}

func TestRunHelpNamesTheDemoPairs(t *testing.T) {
	clearEnv(t)
	var stderr syncBuffer
	err := run(context.Background(), []string{"-h"}, &stderr, nil)
	require.ErrorIs(t, err, flag.ErrHelp)
	assert.Contains(t, stderr.String(), "public demo pairs demo-key:demo-secret,demo-key-2:demo-secret-2", "-h on -keys")
	assert.Contains(t, stderr.String(), "redis://host:port/db", "-h on -redis")
}

func TestServiceRemembersAtMostMaxOrders(t *testing.T) {
	s := &service{orders: map[string]order{}}
	for i := 0; i < maxOrders+3; i++ {
		s.remember(order{ID: "ord_" + strconv.Itoa(i), ClientOrderID: "c" + strconv.Itoa(i)})
	}
	assert.Len(t, s.orders, maxOrders, "orders held after %d", maxOrders+3)
	for _, gone := range []string{"c0", "c1", "c2"} {
		assert.NotContains(t, s.orders, gone, "the oldest orders are forgotten")
	}
	for _, kept := range []string{"c3", "c" + strconv.Itoa(maxOrders+2)} {
		assert.Contains(t, s.orders, kept, "the newest orders are kept")
	}
}

func TestServerForgetsOldOrders(t *testing.T) {
	// Through the demo's handler: a client_order_id forgotten is accepted
	// again.
	h, err := newServer(serverConfig{Problem: problem.Config{Logger: slog.New(slog.DiscardHandler)}, Rate: 1_000_000})
	require.NoError(t, err)
	defer h.Close()
	post := func(id string) int {
		req := httptest.NewRequest(http.MethodPost, "/v1/orders",
			strings.NewReader(`{"client_order_id":"`+id+`","symbol":"AAPL","quantity":1}`))
		req.SetBasicAuth(defaultKeys[0].key, defaultKeys[0].secret)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	require.Equal(t, http.StatusCreated, post("first"), "first order")
	require.Equal(t, http.StatusConflict, post("first"), "the same client_order_id again")
	for i := 0; i < maxOrders; i++ {
		require.Equal(t, http.StatusCreated, post("fill-"+strconv.Itoa(i)), "order %d", i)
	}
	assert.Equal(t, http.StatusCreated, post("first"), "the first client_order_id after %d newer orders", maxOrders)
}
