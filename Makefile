GO ?= go
PKGS := ./...

.PHONY: test vet bench fuzz run cover

## test: vet, then every test under the race detector.
test: vet
	$(GO) test -race -count=1 $(PKGS)

vet:
	@test -z "$$(gofmt -l .)" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(GO) vet $(PKGS)

## bench: the benchmarks beside the code, with allocations.
bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

## fuzz: each fuzz target for FUZZTIME (default 20s).
FUZZTIME ?= 20s
fuzz:
	$(GO) test ./internal/jsonw -run '^$$' -fuzz '^FuzzString$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/reqctx -run '^$$' -fuzz '^FuzzValidRequestID$$' -fuzztime $(FUZZTIME)
	$(GO) test ./problem -run '^$$' -fuzz '^FuzzDecodeJSON$$' -fuzztime $(FUZZTIME)

## run: the demo service on 127.0.0.1:8080.
run:
	$(GO) run ./examples/server

cover:
	$(GO) test -count=1 -coverprofile=coverage.out $(PKGS)
	$(GO) tool cover -func=coverage.out | tail -1
