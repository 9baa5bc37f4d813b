// Command server is faultline's demo service: a small order API that fails in
// every way faultline handles, in the envelope chosen by -envelope.
//
//	go run ./examples/server -envelope google
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/faultline-go/faultline/problem"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr, nil); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return // -h: the usage is printed; asking for it is no failure
		}
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}

// run parses args, serves until ctx is done and shuts down gracefully. When
// ready is not nil, the listening address is sent on it once serving.
func run(ctx context.Context, args []string, stderr io.Writer, ready chan<- string) error {
	env, err := problem.ConfigFromEnv(nil)
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address")
	envelope := fs.String("envelope", or(env.Envelope, problem.EnvelopeProblem), "error envelope: flat, google, tracked or problem")
	prefix := fs.String("prefix", or(env.Prefix, "BLUM"), "flat error code prefix")
	maintenance := fs.Bool("maintenance", false, "answer every /v1 route with 503 UNAVAILABLE")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	logger := slog.New(slog.NewJSONHandler(stderr, nil))
	cfg := env
	cfg.Envelope, cfg.Prefix, cfg.Logger = *envelope, *prefix, logger
	h, err := newServer(serverConfig{Problem: cfg, Maintenance: *maintenance})
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	logger.Info("listening", "addr", ln.Addr().String(), "envelope", cfg.Envelope, "prefix", cfg.Prefix)
	if ready != nil {
		ready <- ln.Addr().String()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func or(v, def string) string {
	if v != "" {
		return v
	}
	return def
}
