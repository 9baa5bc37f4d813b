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

// options are the demo's command line, parsed and checked.
type options struct {
	addr     string
	server   serverConfig // without a Logger or a Store
	redisURL string       // "" for limits in memory
}

// parseFlags reads the demo's flags from args, and the FAULTLINE_*
// variables through lookup for the settings no flag gives.
func parseFlags(args []string, stderr io.Writer, lookup func(string) (string, bool)) (options, error) {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address")
	envelope := fs.String("envelope", "", "error envelope: flat, google, google-strict, tracked or problem (default $"+problem.EnvEnvelope+", else problem)")
	prefix := fs.String("prefix", "", "flat error code prefix (default $"+problem.EnvPrefix+", else BLUM)")
	domain := fs.String("error-domain", "", "the google.rpc.ErrorInfo domain of -envelope google-strict, e.g. orders.example.com (default $"+problem.EnvErrorDomain+")")
	maintenance := fs.Bool("maintenance", false, "answer every /v1 route with 503 UNAVAILABLE")
	keys := fs.String("keys", "", `accepted key pairs, "key:secret,key2:secret2", separated by commas (default: the public demo pairs `+
		demoKeysText()+`, for trying the demo out only)`)
	deployEnv := fs.String("env", string(ratelimit.EnvSandbox), "deployment environment: sandbox (10 requests/s per key pair) or production (25/s)")
	rps := fs.Int("rate", 0, "override the per-key-pair rate and burst (requests/s), for load tests")
	redisURL := fs.String("redis", "", "keep rate limits on Redis, at a URL of the form redis://host:port/db (default in memory)")
	outage := fs.String("redis-outage", "fallback", "when Redis fails: fallback (memory at half rate), open (admit) or closed (503)")
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	if fs.NArg() > 0 {
		return options{}, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	// A flag wins over its variable, so a bad variable is only an error
	// when no flag overrides it.
	cfg, err := problem.ConfigFromEnv(func(name string) (string, bool) {
		if name == problem.EnvEnvelope && set["envelope"] || name == problem.EnvPrefix && set["prefix"] ||
			name == problem.EnvErrorDomain && set["error-domain"] {
			return "", false
		}
		return lookup(name)
	})
	if err != nil {
		return options{}, err
	}
	if set["envelope"] {
		cfg.Envelope = *envelope
	}
	if set["prefix"] {
		cfg.Prefix = *prefix
	}
	if set["error-domain"] {
		cfg.ErrorDomain = *domain
	}
	cfg.Envelope, cfg.Prefix = or(cfg.Envelope, problem.EnvelopeProblem), or(cfg.Prefix, "BLUM")
	if set["keys"] && strings.TrimSpace(*keys) == "" {
		return options{}, fmt.Errorf("-keys is empty: give key:secret pairs, or leave -keys out for the public demo pairs")
	}
	if *rps < 0 {
		return options{}, fmt.Errorf("-rate %d: want a positive number of requests per second", *rps)
	}
	sc := serverConfig{Problem: cfg, Maintenance: *maintenance, Env: ratelimit.Environment(*deployEnv), Rate: *rps}
	if sc.Keys, err = parseKeys(*keys); err != nil {
		return options{}, err
	}
	if sc.Outage, err = parseOutage(*outage); err != nil {
		return options{}, err
	}
	return options{addr: *addr, server: sc, redisURL: *redisURL}, nil
}

// run parses args, serves until ctx is done and shuts down gracefully. When
// ready is not nil, the listening address is sent on it once serving.
func run(ctx context.Context, args []string, stderr io.Writer, ready chan<- string) error {
	opts, err := parseFlags(args, stderr, os.LookupEnv)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewJSONHandler(stderr, nil))
	sc := opts.server
	sc.Problem.Logger = logger
	if opts.redisURL != "" {
		ropts, err := redis.ParseURL(opts.redisURL)
		if err != nil {
			return fmt.Errorf("-redis %q: want a URL of the form redis://host:port/db, such as redis://127.0.0.1:6379/0: %w", opts.redisURL, err)
		}
		redis.SetLogger(redisstore.Logger(logger))
		client := redis.NewClient(redisstore.Options(ropts))
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

	ln, err := net.Listen("tcp", opts.addr)
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
	logger.Info("listening", "addr", ln.Addr().String(), "envelope", sc.Problem.Envelope, "prefix", sc.Problem.Prefix)
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

// parseKeys reads -keys: key:secret pairs separated by commas. A semicolon
// is refused rather than taken into a secret, since it is the separator
// people reach for instead of the comma.
func parseKeys(v string) ([]keyPair, error) {
	if strings.TrimSpace(v) == "" {
		return nil, nil
	}
	var pairs []keyPair
	for _, item := range strings.Split(v, ",") {
		n := len(pairs) + 1
		if strings.Contains(item, ";") {
			return nil, fmt.Errorf("-keys: pair %d contains ';': separate pairs with ',' (key:secret,key2:secret2)", n)
		}
		key, secret, ok := strings.Cut(strings.TrimSpace(item), ":")
		if !ok || key == "" || secret == "" {
			return nil, fmt.Errorf("-keys: each pair must be key:secret with neither empty (pair %d)", n)
		}
		pairs = append(pairs, keyPair{key, secret})
	}
	return pairs, nil
}

// demoKeysText lists the default key pairs as -keys would take them.
func demoKeysText() string {
	parts := make([]string, len(defaultKeys))
	for i, k := range defaultKeys {
		parts[i] = k.key + ":" + k.secret
	}
	return strings.Join(parts, ",")
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
