package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/ratelimit"
	"github.com/faultline-go/faultline/ratelimit/redisstore"
)

var (
	codeMissingAuth    = code{"MISSING_AUTHORIZATION", "BLUM-401-001", "UNAUTHORIZED"}
	codeMalformedCreds = code{"MALFORMED_CREDENTIALS", "BLUM-401-002", "UNAUTHORIZED"}
	codeInvalidCreds   = code{"INVALID_CREDENTIALS", "BLUM-401-003", "UNAUTHORIZED"}
	codeRateLimited    = code{"RESOURCE_EXHAUSTED", "BLUM-429-001", "RATE_LIMIT_EXCEEDED"}
)

// frozenStore decides at a fixed instant, so a test's requests all fall in
// the same moment however slowly the machine runs them.
type frozenStore struct {
	*ratelimit.MemoryStore
	now time.Time
}

func (s frozenStore) Take(_ context.Context, checks []ratelimit.Check, res []ratelimit.Result) (bool, error) {
	return s.TakeAt(s.now, checks, res)
}

func (s frozenStore) Refund(_ context.Context, checks []ratelimit.Check, res []ratelimit.Result) error {
	return s.RefundAt(s.now, checks, res)
}

// startLimited serves the demo with its real limits on a frozen clock.
func startLimited(t *testing.T, envelope string, edit func(*serverConfig)) *testServer {
	t.Helper()
	mem := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{})
	t.Cleanup(func() { _ = mem.Close() })
	return startServerWith(t, envelope, func(cfg *serverConfig) {
		cfg.Store = frozenStore{mem, time.Unix(1_800_000_000, 0)}
		if edit != nil {
			edit(cfg)
		}
	})
}

func basic(key, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(key+":"+secret))
}

func TestServerAuth(t *testing.T) {
	cases := []struct {
		name   string
		header string // "" sends no Authorization header
		want   code
	}{
		{"missing", "", codeMissingAuth},
		{"bearer scheme", "Bearer abc", codeMalformedCreds},
		{"bad base64", "Basic !!!", codeMalformedCreds},
		{"no colon", "Basic " + base64.StdEncoding.EncodeToString([]byte("demo-key")), codeMalformedCreds},
		{"empty secret", basic("demo-key", ""), codeMalformedCreds},
		{"control character", basic("demo-key", "demo\x00secret"), codeMalformedCreds},
		{"over 4 KiB", "Basic " + strings.Repeat("A", 5000), codeMalformedCreds},
		{"wrong secret", basic("demo-key", "nope"), codeInvalidCreds},
		{"unknown key", basic("who", "demo-secret"), codeInvalidCreds},
	}
	for _, envelope := range envelopes {
		t.Run(envelope, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, envelope, false)
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					resp, body := s.do(t, "GET", "/v1/accounts/acc_1", "", map[string]string{"Authorization": tc.header})
					s.checkError(t, resp, body, http.StatusUnauthorized, tc.want)
					assert.Equal(t, `Basic realm="api", charset="UTF-8"`, resp.Header.Get("WWW-Authenticate"),
						"GET /v1/accounts/acc_1 with %s: WWW-Authenticate", tc.name)
					assert.NotContains(t, string(body), "demo-secret", "401 body leaks the secret")
				})
			}
			t.Run("valid", func(t *testing.T) {
				resp, _ := s.do(t, "GET", "/v1/accounts/acc_1", "", map[string]string{"Authorization": basic("demo-key-2", "demo-secret-2")})
				assert.Equal(t, http.StatusOK, resp.StatusCode, "GET /v1/accounts/acc_1 as demo-key-2: status")
			})
			t.Run("healthz needs none", func(t *testing.T) {
				resp, _ := s.do(t, "GET", "/healthz", "", map[string]string{"Authorization": ""})
				assert.Equal(t, http.StatusOK, resp.StatusCode, "GET /healthz without credentials: status")
			})
			assert.NotContains(t, s.logs.String(), "demo-secret", "the log holds a secret")
		})
	}
}

func TestServerKeysFlagReplacesDefaults(t *testing.T) {
	s := startServerWith(t, "flat", func(cfg *serverConfig) {
		cfg.Keys = []keyPair{{"ops", "s3cret"}}
		cfg.Rate = 1000
	})
	resp, _ := s.do(t, "GET", "/v1/accounts/acc_1", "", map[string]string{"Authorization": basic("ops", "s3cret")})
	assert.Equal(t, http.StatusOK, resp.StatusCode, "GET as ops: status")
	resp, body := s.do(t, "GET", "/v1/accounts/acc_1", "", nil) // demo-key
	s.checkError(t, resp, body, http.StatusUnauthorized, codeInvalidCreds)
}

// rateHeaders returns the RateLimit-Policy and RateLimit headers.
func rateHeaders(resp *http.Response) (policy, limit string) {
	return resp.Header.Get("RateLimit-Policy"), resp.Header.Get("RateLimit")
}

func TestServerRateLimit(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(*serverConfig)
		label string
		quota int
	}{
		{"sandbox", nil, "sandbox", 10},
		{"production", func(c *serverConfig) { c.Env = ratelimit.EnvProduction }, "production", 25},
		{"rate flag", func(c *serverConfig) { c.Rate = 3 }, "sandbox", 3},
	}
	for _, envelope := range envelopes {
		for _, tc := range cases {
			t.Run(envelope+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				s := startLimited(t, envelope, tc.edit)
				wantPolicy := `"` + tc.label + `";q=` + strconv.Itoa(tc.quota) + ";w=1"
				for i := 1; i <= tc.quota; i++ {
					resp, _ := s.do(t, "GET", "/v1/accounts/acc_1", "", nil)
					require.Equal(t, http.StatusOK, resp.StatusCode, "request %d of %d: status", i, tc.quota)
					policy, limit := rateHeaders(resp)
					assert.Equal(t, wantPolicy, policy, "request %d: RateLimit-Policy", i)
					assert.Equal(t, `"`+tc.label+`";r=`+strconv.Itoa(tc.quota-i)+";t=1", limit, "request %d: RateLimit", i)
				}
				resp, body := s.do(t, "GET", "/v1/accounts/acc_1", "", nil)
				s.checkError(t, resp, body, http.StatusTooManyRequests, codeRateLimited)
				assert.Equal(t, "1", resp.Header.Get("Retry-After"), "429: Retry-After")
				policy, limit := rateHeaders(resp)
				assert.Equal(t, wantPolicy, policy, "429: RateLimit-Policy")
				assert.Equal(t, `"`+tc.label+`";r=0;t=1`, limit, "429: RateLimit")
				assert.Contains(t, string(body), tc.label, "429 body names the policy")

				// Another key pair has a bucket of its own.
				resp, _ = s.do(t, "GET", "/v1/accounts/acc_1", "", map[string]string{"Authorization": basic("demo-key-2", "demo-secret-2")})
				assert.Equal(t, http.StatusOK, resp.StatusCode, "demo-key-2 after demo-key was limited: status")
			})
		}
	}
}

func TestServerReportsRouteLimit(t *testing.T) {
	for _, envelope := range envelopes {
		t.Run(envelope, func(t *testing.T) {
			t.Parallel()
			s := startLimited(t, envelope, nil)
			const wantPolicy = `"sandbox";q=10;w=1, "reports";q=2;w=1`
			for i := 1; i <= 2; i++ {
				resp, _ := s.do(t, "GET", "/v1/reports", "", nil)
				require.Equal(t, http.StatusOK, resp.StatusCode, "GET /v1/reports #%d: status", i)
				policy, limit := rateHeaders(resp)
				assert.Equal(t, wantPolicy, policy, "GET /v1/reports #%d: RateLimit-Policy", i)
				assert.Equal(t, `"sandbox";r=`+strconv.Itoa(10-i)+`;t=1, "reports";r=`+strconv.Itoa(2-i)+";t=1", limit,
					"GET /v1/reports #%d: RateLimit", i)
			}
			for i := 3; i <= 5; i++ {
				resp, body := s.do(t, "GET", "/v1/reports", "", nil)
				s.checkError(t, resp, body, http.StatusTooManyRequests, codeRateLimited)
				assert.Contains(t, string(body), "reports", "GET /v1/reports #%d: the 429 names the route policy", i)
				_, limit := rateHeaders(resp)
				assert.Equal(t, `"sandbox";r=8;t=1, "reports";r=0;t=1`, limit,
					"GET /v1/reports #%d: RateLimit (refusals use no sandbox token)", i)
				assert.Equal(t, "1", resp.Header.Get("Retry-After"), "GET /v1/reports #%d: Retry-After", i)
			}
			resp, _ := s.do(t, "GET", "/v1/accounts/acc_1", "", nil)
			require.Equal(t, http.StatusOK, resp.StatusCode, "GET /v1/accounts/acc_1 after the reports 429s: status")
			policy, limit := rateHeaders(resp)
			assert.Equal(t, `"sandbox";q=10;w=1`, policy, "accounts: RateLimit-Policy has no route item")
			assert.Equal(t, `"sandbox";r=7;t=1`, limit, "accounts: RateLimit")
		})
	}
}

// A refused HEAD /v1/reports (chi's GetHead serves it with the GET route)
// takes no key-pair token, as a refused GET does not.
func TestServerReportsHeadRefusal(t *testing.T) {
	s := startLimited(t, "flat", nil)
	for i := 1; i <= 2; i++ {
		resp, _ := s.do(t, "HEAD", "/v1/reports", "", nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, "HEAD /v1/reports #%d: status", i)
	}
	for i := 3; i <= 6; i++ {
		resp, _ := s.do(t, "HEAD", "/v1/reports", "", nil)
		require.Equal(t, http.StatusTooManyRequests, resp.StatusCode, "HEAD /v1/reports #%d: status", i)
		_, limit := rateHeaders(resp)
		assert.Equal(t, `"sandbox";r=8;t=1, "reports";r=0;t=1`, limit, "HEAD /v1/reports #%d: RateLimit (refusals take no sandbox token)", i)
	}
}

// -env production gives the demo's key pairs the production preset.
func TestServerProductionKeyPairs(t *testing.T) {
	s := startLimited(t, "flat", func(cfg *serverConfig) { cfg.Env = ratelimit.EnvProduction })
	resp, _ := s.do(t, "GET", "/v1/accounts/acc_1", "", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	policy, limit := rateHeaders(resp)
	assert.Equal(t, `"production";q=25;w=1`, policy, "RateLimit-Policy")
	assert.Equal(t, `"production";r=24;t=1`, limit, "RateLimit")
}

// A -rate no store can compute exactly is a startup error, not a crash.
func TestRunRateBounds(t *testing.T) {
	for _, v := range []string{"4611686018427387904", "1073741825"} {
		t.Run(v, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			var stderr strings.Builder
			var err error
			assert.NotPanics(t, func() { err = run(ctx, []string{"-addr", "127.0.0.1:0", "-rate", v}, &stderr, nil) })
			require.ErrorIs(t, err, ratelimit.ErrInvalidPolicy, "run(-rate %s) = %v, want ErrInvalidPolicy", v, err)
		})
	}
}

// TestServerRedisReplicas runs two demo replicas on one Redis (make test
// provides FAULTLINE_REDIS_ADDR): a key pair's limit is shared, so the two
// together admit one burst, not two.
func TestServerRedisReplicas(t *testing.T) {
	addr := os.Getenv("FAULTLINE_REDIS_ADDR")
	if addr == "" {
		if os.Getenv("FAULTLINE_REQUIRE_REDIS") == "1" {
			t.Fatal("FAULTLINE_REQUIRE_REDIS=1 but FAULTLINE_REDIS_ADDR is unset")
		}
		t.Skip("FAULTLINE_REDIS_ADDR is unset; make test starts a redis-server")
	}
	prefix := fmt.Sprintf("demo-test-%d", time.Now().UnixNano())
	start := func() *testServer {
		client := redis.NewClient(redisstore.Options(&redis.Options{Addr: addr}))
		t.Cleanup(func() { _ = client.Close() })
		store, err := redisstore.New(client, redisstore.Config{Prefix: prefix})
		require.NoError(t, err, "redisstore.New(%s) = _, %v", addr, err)
		return startServerWith(t, "flat", func(cfg *serverConfig) { cfg.Store = store })
	}
	a, b := start(), start()
	// The sandbox policy: 10 tokens, one back every 100ms. Send the burst
	// alternating replicas, then expect refusals.
	admitted := 0
	for i := 0; i < 10; i++ {
		s := a
		if i%2 == 1 {
			s = b
		}
		resp, _ := s.do(t, "GET", "/v1/accounts/acc_1", "", nil)
		if resp.StatusCode == http.StatusOK {
			admitted++
		}
	}
	var refused int
	for _, s := range []*testServer{a, b} {
		resp, body := s.do(t, "GET", "/v1/accounts/acc_1", "", nil)
		if resp.StatusCode == http.StatusTooManyRequests {
			refused++
			s.checkError(t, resp, body, http.StatusTooManyRequests, codeRateLimited)
		}
	}
	// Refills during the loop (10/s) can admit a request or two more on a
	// slow machine; two separate buckets would admit 20.
	assert.GreaterOrEqual(t, admitted, 10, "admitted %d of the first 10, want all", admitted)
	assert.GreaterOrEqual(t, refused, 1, "both replicas admitted more after a shared burst of 10; the limit is not shared")
}

// Unknown paths and methods under /v1 spend a key-pair token as routes do,
// and carry the key pair's headers.
func TestServerLimitsUnknownRoutes(t *testing.T) {
	for _, tc := range []struct {
		name, method, path string
		status             int
	}{
		{"unknown path", "GET", "/v1/nope", http.StatusNotFound},
		{"unknown method", "POST", "/v1/reports", http.StatusMethodNotAllowed},
		{"unknown method, limited route", "DELETE", "/v1/accounts/acc_1", http.StatusMethodNotAllowed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := startLimited(t, "flat", nil)
			for i := 1; i <= 10; i++ {
				resp, _ := s.do(t, tc.method, tc.path, "", nil)
				require.Equal(t, tc.status, resp.StatusCode, "%s %s #%d: status", tc.method, tc.path, i)
				policy, limit := rateHeaders(resp)
				assert.Equal(t, `"sandbox";q=10;w=1`, policy, "%s %s #%d: RateLimit-Policy", tc.method, tc.path, i)
				assert.Equal(t, `"sandbox";r=`+strconv.Itoa(10-i)+";t=1", limit, "%s %s #%d: RateLimit", tc.method, tc.path, i)
			}
			resp, body := s.do(t, "GET", "/v1/accounts/acc_1", "", nil)
			s.checkError(t, resp, body, http.StatusTooManyRequests, codeRateLimited)
		})
	}
}

// TestServerRedisOneCommandPerRequest counts the commands the demo sends
// to Redis: one per request on every route, /v1/reports (two policies)
// included, and one per refusal too.
func TestServerRedisOneCommandPerRequest(t *testing.T) {
	addr := os.Getenv("FAULTLINE_REDIS_ADDR")
	if addr == "" {
		if os.Getenv("FAULTLINE_REQUIRE_REDIS") == "1" {
			t.Fatal("FAULTLINE_REQUIRE_REDIS=1 but FAULTLINE_REDIS_ADDR is unset")
		}
		t.Skip("FAULTLINE_REDIS_ADDR is unset; make test starts a redis-server")
	}
	client := redis.NewClient(redisstore.Options(&redis.Options{Addr: addr}))
	t.Cleanup(func() { _ = client.Close() })
	commands := new(commandCounter)
	client.AddHook(commands)
	store, err := redisstore.New(client, redisstore.Config{Prefix: fmt.Sprintf("demo-cmds-%d", time.Now().UnixNano())})
	require.NoError(t, err, "redisstore.New(%s) = _, %v", addr, err)
	s := startServerWith(t, "flat", func(cfg *serverConfig) { cfg.Store = store })
	// Another key pair's request opens the connection and loads the script.
	resp, _ := s.do(t, "GET", "/v1/accounts/acc_1", "", map[string]string{"Authorization": basic("demo-key-2", "demo-secret-2")})
	require.Equal(t, http.StatusOK, resp.StatusCode, "warm-up request: status")

	for _, tc := range []struct {
		method, path string
		status       []int // of each request, in order
	}{
		{"GET", "/v1/accounts/acc_1", []int{200, 200}},
		{"GET", "/v1/reports", []int{200, 200, 429}},
		{"HEAD", "/v1/reports", []int{429}},
		{"GET", "/v1/nope", []int{404, 404}},
	} {
		for i, want := range tc.status {
			before := commands.n.Load()
			resp, _ := s.do(t, tc.method, tc.path, "", nil)
			require.Equal(t, want, resp.StatusCode, "%s %s #%d: status", tc.method, tc.path, i+1)
			assert.Equal(t, int64(1), commands.n.Load()-before, "%s %s #%d (%d): Redis commands", tc.method, tc.path, i+1, want)
		}
	}
}

// commandCounter counts the commands a go-redis client sends (a pipeline
// counts each of its commands).
type commandCounter struct{ n atomic.Int64 }

func (h *commandCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *commandCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmd)
	}
}

func (h *commandCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.n.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}
