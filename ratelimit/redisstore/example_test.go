package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/redis/go-redis/v9"

	"github.com/faultline-go/faultline/ratelimit"
	"github.com/faultline-go/faultline/ratelimit/redisstore"
)

// A store on a server that refuses connections fails at once, naming the
// server and the cause.
func ExampleNew() {
	client := redis.NewClient(redisstore.Options(&redis.Options{Addr: "127.0.0.1:1"}))
	defer client.Close()
	store, err := redisstore.New(client, redisstore.Config{Prefix: "orders:rl"})
	if err != nil {
		panic(err)
	}
	defer store.Close()

	checks := []ratelimit.Check{{Policy: ratelimit.Production(), Key: "key-1"}}
	res := make([]ratelimit.Result, len(checks))
	_, err = store.Take(context.Background(), checks, res)
	fmt.Println(err)
	fmt.Println(errors.Is(err, redisstore.ErrUnavailable))
	// Output:
	// redisstore: 127.0.0.1:1: evalsha: dial tcp 127.0.0.1:1: connect: connection refused
	// true
}

// go-redis's log lines become structured WARN records, one a second at
// most; the record after a quiet second counts the lines dropped.
func ExampleLogger() {
	// A handler without the time, for a stable output.
	h := slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}})
	l := redisstore.Logger(slog.New(h))
	// In a service: redis.SetLogger(l)
	l.Printf(context.Background(), "redis: connection pool: failed to dial after %d attempts: %s", 1, "connection refused")
	l.Printf(context.Background(), "redis: connection pool: failed to dial after %d attempts: %s", 1, "connection refused")
	// Output:
	// {"level":"WARN","msg":"redis client","detail":"redis: connection pool: failed to dial after 1 attempts: connection refused","suppressed":0}
}
