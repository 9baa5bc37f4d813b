package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// get GETs url and returns the status and the body.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err, "GET %s", url)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err, "GET %s: read body", url)
	return resp.StatusCode, string(body)
}

func TestServe(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- serve(ctx, ln, slog.New(slog.DiscardHandler)) }()

	base := "http://" + ln.Addr().String()
	status, _ := get(t, base+"/v1/accounts/acc_1")
	assert.Equal(t, http.StatusUnauthorized, status, "GET /v1/accounts/acc_1 without credentials")
	status, body := get(t, base+"/metrics")
	assert.Equal(t, http.StatusOK, status, "GET /metrics")
	for _, s := range []string{
		`faultline_errors_total{code="MISSING_AUTHORIZATION",status="401"} 1`,
		"go_goroutines ",
		"process_start_time_seconds ",
	} {
		assert.Contains(t, body, s, "GET /metrics")
	}

	cancel()
	assert.NoError(t, <-done, "serve(ctx) after ctx is done")
}

func TestRunArgs(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	tests := []struct {
		name string
		args []string
		want string // in the error
	}{
		{"unknown flag", []string{"-port", "80"}, "flag provided but not defined: -port"},
		{"extra argument", []string{"serve"}, `unexpected arguments: ["serve"]`},
		{"address in use", []string{"-addr", ln.Addr().String()}, "address already in use"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := run(context.Background(), tt.args, io.Discard)
			assert.ErrorContains(t, err, tt.want, "run(%q)", tt.args)
		})
	}
}

func TestRunHelp(t *testing.T) {
	var stderr bytes.Buffer
	err := run(context.Background(), []string{"-h"}, &stderr)
	assert.ErrorIs(t, err, flag.ErrHelp, "run(-h)")
	assert.Contains(t, stderr.String(), "-addr", "run(-h) usage")
}
