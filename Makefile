# snmpchaos — see README.md. Every target works on a fresh machine: Go
# modules come from the module proxy; tests install net-snmp (Debian packages
# snmp, snmpd) when run as root, or skip those tests with a clear message.

GO        ?= go
GOFLAGS   ?=
PKGS      ?= ./...
FUZZTIME  ?= 30s
BENCHTIME ?= 1x
BIN       := bin

.PHONY: k8s-deps k8s-test image all build test examples test-short integration netns-test bench bench-scale fuzz lint vet fmt demo simagent clean ci

all: build

build:
	$(GO) build -o $(BIN)/ ./cmd/...

simagent: build
	./$(BIN)/simagent --agents 1000

# The main job: a fleet of 1,000 simulated agents on loopback, polled by
# real clients with faults injected while it runs.
demo: build
	bash scripts/demo.sh

# The tests: every package under the race detector and goleak, and the
# integration test (the reproduction matrix: every bundled scenario's short
# profile with pollerlib and three gosnmp pollers; the negative controls) in
# the same run.
test:
	bash scripts/need-netsnmp.sh
	bash scripts/need-pollers.sh
	bash scripts/k8s-binaries.sh
	$(GO) test -race -count=1 -tags integration -timeout 60m $(PKGS)
	$(MAKE) examples

# The example module (examples/mypoller, its own go.mod): a user's poller
# tested with harness/harnesstest from outside this module. -mod=mod: its
# requirements follow this module's (replace ../..) without a manual tidy.
examples:
	cd examples/mypoller && GOFLAGS=-mod=mod $(GO) vet ./... && GOFLAGS=-mod=mod $(GO) test -race -count=1 -short -timeout 10m ./...

test-short:
	$(GO) test -count=1 -short $(PKGS)

integration:
	$(GO) test -race -count=1 -tags integration -timeout 60m .

# Pods mode, checked locally: builds (once, cached outside the repository)
# kube-apiserver, links Debian's etcd, generates Chaos Mesh's CRDs and
# installs controller-gen, actionlint and kubeconform; then the tests that
# run against that apiserver (Chaos objects per phase, webhooks, schemas,
# manifests, workflows).
k8s-deps:
	bash scripts/k8s-binaries.sh

k8s-test: k8s-deps
	$(GO) test -race -count=1 -timeout 15m -v ./k8s/... ./cmd/snmpchaos/ -run 'K8s|APIServer|ServerSide|Manifests|Check|Build|Node|Plan|Start'

# The container image of k8s/Dockerfile (simagent and snmpchaos, static,
# FROM scratch): no base image is pulled.
IMAGE ?= snmpchaos/simagent:dev
image:
	mkdir -p $(BIN)/image
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '-s -w' -o $(BIN)/image/ ./cmd/simagent ./cmd/snmpchaos
	docker build -f k8s/Dockerfile -t $(IMAGE) $(BIN)/image

# netns mode: sites in network namespaces with kernel faults (nftables
# drops, tbf, link down/flap). Needs root on Linux; skips with a message
# otherwise.
netns-test:
	$(GO) test -race -count=1 -timeout 10m -v ./netns/
	$(GO) test -race -count=1 -timeout 10m -v -run 'Netns' ./harness/
	$(GO) test -race -count=1 -timeout 10m -v ./harness/fault/

# Performance targets are checked here, measured side by side in one run.
# The fleet and poller benchmarks run fixed measurement windows whatever
# -benchtime says, so they run once (BENCHTIME 1x). The pure-CPU
# microbenchmarks (MICROBENCH: simagent's hot path, pollerlib's response
# decoding; snmp/ber's codec) time a loop, so they run apart for
# MICROBENCHTIME per benchmark (about 15 s in all).
MICROBENCHTIME ?= 1s
MICROBENCH     := ^Benchmark(HotPath|DecodeResponse)$$
bench:
	$(GO) test -run '^$$' -bench . -skip '$(MICROBENCH)' -benchtime $(BENCHTIME) -timeout 30m ./simagent/ ./pollerlib/ ./harness/
	$(GO) test -run '^$$' -bench '$(MICROBENCH)' -benchtime $(MICROBENCHTIME) -benchmem -timeout 10m ./simagent/ ./pollerlib/
	$(GO) test -run '^$$' -bench . -benchtime $(MICROBENCHTIME) -benchmem ./snmp/ber/

# The end-to-end scale benchmark: the largest fleet (in a child process)
# this machine simulates and polls at the issue-16 mix, for pollerlib,
# gosnmp and gosnmp-cached in one run, each bisected to
# SNMPCHAOS_SCALE_PRECISION (1.05): about 9-10 minutes, no run started
# after SNMPCHAOS_SCALE_BUDGET (13m). SNMPCHAOS_SCALE_DEVICES=N runs one
# size only; see pollerlib/bench_scale_test.go for the other knobs.
bench-scale:
	SNMPCHAOS_SCALE=1 $(GO) test -run '^$$' -bench '^BenchmarkScale$$' -benchtime 1x -timeout 30m ./pollerlib/

# Every decoder of untrusted bytes, as PACKAGE:TARGET: what agents receive
# (v1/v2c and v3 requests, USM messages, OIDs), what the poller receives
# (responses), what users write (scenario files, MIB data files, fault
# specs, selectors) and what the control API is sent.
FUZZ_TARGETS := \
	./simagent/:FuzzRequest ./simagent/:FuzzV3Request \
	./simagent/:FuzzParseFaultSpec ./simagent/:FuzzParseSelector ./simagent/:FuzzSelectorJSON \
	./simagent/mib/:FuzzParseSnmprec ./simagent/mib/:FuzzParseWalk \
	./simagent/control/:FuzzControlAPI ./scenarios/:FuzzParse \
	./pollerlib/:FuzzDecodeResponse ./snmp/usm/:FuzzParseMessage ./snmp/ber/:FuzzOIDRoundTrip

# FUZZTIME is a duration (30s) or a count (100000x), per target. Counts
# avoid Go 1.26's spurious "context deadline exceeded" at the end of a
# timed run (golang/go#75804); CI uses one. Minimising a new input is
# bounded too (FUZZMINIMIZE), so that no target stalls on a large one.
FUZZMINIMIZE ?= 10s
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; fn=$${t##*:}; echo "== fuzz $$fn in $$pkg ($(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZE) $$pkg; \
	done

vet:
	$(GO) vet $(PKGS)

fmt:
	gofmt -w $$(git ls-files '*.go')

lint: vet
	$(GO) vet -tags integration .
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

ci: lint test
	$(MAKE) fuzz FUZZTIME=100000x

clean:
	rm -rf $(BIN) out
