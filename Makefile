# Sluice — build, run, test. `make help` lists the targets.
GO        ?= go
BIN       := bin/sluice
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X github.com/sluicehq/sluice/internal/version.Version=$(VERSION)
PKGS      := ./...

.PHONY: help build run test test-short check fmt vet lint bench fuzz clean docker

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build bin/sluice
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/sluice

IMAGE ?= ghcr.io/sluicehq/sluice
docker: ## build the container image $(IMAGE):$(VERSION) (see docs/deployment.md)
	docker build --build-arg VERSION=$(VERSION) -t $(IMAGE):$(VERSION) .

run: build ## build and serve the embedded default config on 127.0.0.1:8080
	./$(BIN) serve

test: ## all tests with the race detector, plus every Go benchmark once
	$(GO) vet $(PKGS)
	$(GO) test -race -count=1 -timeout 15m $(PKGS)
	$(GO) test -run '^$$' -bench . -benchtime 1x -count=1 -timeout 10m $(PKGS)
	cd deploy/check && $(GO) test -count=1 ./...

test-short: ## unit tests only, no race detector (fast inner loop)
	$(GO) test -short -count=1 $(PKGS)

check: fmt vet lint ## fast checks before a commit: gofmt, vet, staticcheck, short tests
	$(GO) test -short -count=1 $(PKGS)

fmt: ## fail if gofmt would change a file
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet: ## go vet
	$(GO) vet $(PKGS)

lint: ## staticcheck (pinned in go.mod as a tool)
	$(GO) tool staticcheck $(PKGS)

# The end-to-end harness (bench/). QUICK=1: short runs, under 3 minutes, printed
# only; the full run (under 10 minutes) also rewrites the results in
# docs/benchmarks.md. BENCH_ARGS passes more flags, e.g. BENCH_ARGS='-only go-proxy'.
BENCH_OUT ?= $(if $(QUICK),,docs/benchmarks.md)
bench: build ## end-to-end benchmark: Sluice vs Go proxy vs nginx vs direct (QUICK=1 for short runs)
	$(GO) build -o bin/sluicebench ./bench/cmd/sluicebench
	./bin/sluicebench $(if $(QUICK),-quick) $(if $(BENCH_OUT),-out $(BENCH_OUT)) -command 'make bench$(if $(QUICK), QUICK=1)' $(BENCH_ARGS)

.PHONY: bench-quick bench-go
bench-go: ## Go micro-benchmarks of the hot path, with allocations (compare runs with benchstat)
	$(GO) test -run '^$$' -bench . -benchmem -count=1 ./internal/...

bench-quick: ## make bench QUICK=1
	@$(MAKE) --no-print-directory bench QUICK=1

FUZZTIME ?= 30s
fuzz: ## run every fuzz target for FUZZTIME each
	@for pkg in $$($(GO) list $(PKGS)); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; done

clean: ## remove build output
	rm -rf bin
