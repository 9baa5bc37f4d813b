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
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/faultline-go/faultline/problem"
	"github.com/faultline-go/faultline/ratelimit"
	"github.com/faultline-go/faultline/ratelimit/redisstore"
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
	keys := fs.String("keys", "", `accepted key pairs, "key:secret,key2:secret2" (default the two demo pairs)`)
	deployEnv := fs.String("env", string(ratelimit.EnvSandbox), "deployment environment: sandbox (10 requests/s per key pair) or production (25/s)")
	rps := fs.Int("rate", 0, "override the per-key-pair rate and burst (requests/s), for load tests")
	redisURL := fs.String("redis", "", "keep rate limits on Redis, redis://host:port/db (default in memory)")
	outage := fs.String("redis-outage", "open", "when Redis fails: open (admit), closed (503) or fallback (memory at half rate)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	logger := slog.New(slog.NewJSONHandler(stderr, nil))
	cfg := env
	cfg.Envelope, cfg.Prefix, cfg.Logger = *envelope, *prefix, logger
	sc := serverConfig{Problem: cfg, Maintenance: *maintenance, Env: ratelimit.Environment(*deployEnv), Rate: *rps}
	if *rps < 0 {
		return fmt.Errorf("-rate %d: want a positive number of requests per second", *rps)
	}
	if sc.Keys, err = parseKeys(*keys); err != nil {
		return err
	}
	if sc.Outage, err = parseOutage(*outage); err != nil {
		return err
	}
	if *redisURL != "" {
		opts, err := redis.ParseURL(*redisURL)
		if err != nil {
			return fmt.Errorf("-redis: %w", err)
		}
		redis.SetLogger(redisstore.Logger(logger))
		client := redis.NewClient(redisstore.Options(opts))
		defer client.Close()
		if sc.Store, err = redisstore.New(client, redisstore.Config{}); err != nil {
			return err
		}
	}
	h, err := newServer(sc)
	if err != nil {
		return err
	}
	defer h.Close()

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

// parseKeys reads -keys: comma-separated key:secret pairs.
func parseKeys(v string) ([]keyPair, error) {
	if strings.TrimSpace(v) == "" {
		return nil, nil
	}
	var pairs []keyPair
	for _, item := range strings.Split(v, ",") {
		key, secret, ok := strings.Cut(strings.TrimSpace(item), ":")
		if !ok || key == "" || secret == "" {
			return nil, fmt.Errorf("-keys: each pair must be key:secret with neither empty (pair %d)", len(pairs)+1)
		}
		pairs = append(pairs, keyPair{key, secret})
	}
	return pairs, nil
}

// parseOutage reads -redis-outage.
func parseOutage(v string) (ratelimit.Outage, error) {
	switch v {
	case "open":
		return ratelimit.FailOpen, nil
	case "closed":
		return ratelimit.FailClosed, nil
	case "fallback":
		return ratelimit.FallBack, nil
	}
	return 0, fmt.Errorf("-redis-outage %q: want open, closed or fallback", v)
}

func or(v, def string) string {
	if v != "" {
		return v
	}
	return def
}
