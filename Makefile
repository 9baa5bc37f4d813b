GO ?= go
PKGS := ./...

.PHONY: test vet bench bench-peers bench-redis fuzz run cover redis-start redis-stop docs

# with_redis runs the shell command $(1) with throwaway Redis servers
# (scripts/redis.sh: one standalone, one 3-node cluster, never on 6379) and
# their FAULTLINE_REDIS_* environment, then stops them whatever happened,
# keeping the command's exit status. Each run has a directory of its own
# under .redis/, so runs side by side do not collide.
define with_redis
	@dir=.redis/run.$$$$; \
	scripts/redis.sh start "$$dir" || exit 1; \
	trap 'scripts/redis.sh stop "$$dir"' EXIT; \
	trap 'exit 130' HUP INT TERM; \
	set -a; . "$$dir/env"; set +a; \
	set -x; \
	$(1)
endef

## test: vet, then every test under the race detector, the Redis store's
## against real redis-servers (FAULTLINE_REQUIRE_REDIS=1: they fail rather
## than skip when Redis is missing), then the load test on its own (its busy
## loops would slow the tests beside it), printing its figures.
test: vet
	$(call with_redis,$(GO) test -race -count=1 $(PKGS) && \
		FAULTLINE_LOAD_TEST=1 $(GO) test -race -count=1 -run '^TestLoad' -v ./examples/server)
	cd tests/openapi && $(GO) test -race -count=1 ./...
	cd tests/standards && $(GO) test -race -count=1 ./...
	cd examples/prometheus && $(GO) test -race -count=1 ./...

vet:
	@test -z "$$(gofmt -l .)" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(GO) vet $(PKGS)
	cd tests/openapi && $(GO) vet ./...
	cd tests/standards && $(GO) vet ./...
	cd examples/prometheus && $(GO) vet ./...

## bench: the benchmarks beside the code, with allocations.
bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

## bench-peers: our limiter side by side with other Go rate limiters, in the
## separate bench/ module (see bench/README.md).
bench-peers:
	$(MAKE) -C bench bench

## bench-redis: the Redis store's benchmarks, against a throwaway redis-server.
bench-redis:
	$(call with_redis,$(GO) test -run '^$$' -bench Redis -benchmem ./ratelimit/redisstore)

## redis-start: throwaway Redis servers in .redis/dev for running tests by
## hand: set -a; . .redis/dev/env; set +a; go test ./ratelimit
redis-start:
	scripts/redis.sh start .redis/dev

## redis-stop: stops the servers of redis-start.
redis-stop:
	scripts/redis.sh stop .redis/dev

## fuzz: each fuzz target for FUZZTIME (default 20s).
FUZZTIME ?= 20s
fuzz:
	$(GO) test ./internal/jsonw -run '^$$' -fuzz '^FuzzString$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/reqctx -run '^$$' -fuzz '^FuzzValidRequestID$$' -fuzztime $(FUZZTIME)
	$(GO) test ./problem -run '^$$' -fuzz '^FuzzDecodeJSON$$' -fuzztime $(FUZZTIME)
	$(GO) test ./problem -run '^$$' -fuzz '^FuzzInstance$$' -fuzztime $(FUZZTIME)
	$(GO) test ./problem -run '^$$' -fuzz '^FuzzAcceptWeights$$' -fuzztime $(FUZZTIME)
	$(GO) test ./problem -run '^$$' -fuzz '^FuzzRenderStandards$$' -fuzztime $(FUZZTIME)
	$(GO) test ./problem -run '^$$' -fuzz '^FuzzParseTraceparent$$' -fuzztime $(FUZZTIME)
	$(GO) test ./middleware -run '^$$' -fuzz '^FuzzParseBasic$$' -fuzztime $(FUZZTIME)
	$(GO) test ./catalog -run '^$$' -fuzz '^FuzzParseSnapshot$$' -fuzztime $(FUZZTIME)
	$(GO) test ./catalog/reference -run '^$$' -fuzz '^FuzzNegotiate$$' -fuzztime $(FUZZTIME)
	$(GO) test ./client -run '^$$' -fuzz '^FuzzParseSFList$$' -fuzztime $(FUZZTIME)
	$(GO) test ./client -run '^$$' -fuzz '^FuzzParseRetryAfter$$' -fuzztime $(FUZZTIME)
	$(GO) test ./client -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME)
	$(GO) test ./client -run '^$$' -fuzz '^FuzzParseCatalog$$' -fuzztime $(FUZZTIME)

## docs: the error reference of the built-in catalog, docs/errors.md and
## docs/errors.json; a test fails when the committed files are out of date.
docs:
	$(GO) run ./internal/cmd/docs -dir docs

## run: the demo service on 127.0.0.1:8080.
run:
	$(GO) run ./examples/server

cover:
	$(GO) test -count=1 -coverprofile=coverage.out $(PKGS)
	$(GO) tool cover -func=coverage.out | tail -1
