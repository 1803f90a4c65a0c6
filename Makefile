# kubectl-aksbackup: build, test and demo. `make help` lists the targets.
SHELL := /usr/bin/env bash
.DEFAULT_GOAL := help

GO      ?= go
MODULE  := github.com/kubectl-aksbackup/kubectl-aksbackup
VERSION ?= $(shell git describe --tags --match 'v*' 2>/dev/null || echo "v0.0.0-dev+$$(git rev-parse --short HEAD 2>/dev/null || echo unknown)")
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
DATE    ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS := -s -w -X $(MODULE)/pkg/version.version=$(VERSION) -X $(MODULE)/pkg/version.commit=$(COMMIT) -X $(MODULE)/pkg/version.date=$(DATE)
BIN_DIR := $(CURDIR)/bin
# The verifier image this build's plugin defaults to (probe --image); tags cannot hold "+".
VERIFIER_REPO  ?= ghcr.io/kubectl-aksbackup/aksbackup-verifier
VERIFIER_IMAGE ?= $(VERIFIER_REPO):$(subst +,-,$(VERSION))
LDFLAGS += -X $(MODULE)/pkg/version.verifierImage=$(VERIFIER_IMAGE)

include e2e/lab.mk

.PHONY: help build test unit e2e demo bench bench-triage fmt-check tidy-check vet clean verifier-image

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## Build the plugin, its completion helper and the verifier into bin/
	@mkdir -p $(BIN_DIR)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN_DIR)/kubectl-aksbackup ./cmd/kubectl-aksbackup
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN_DIR)/aksbackup-verifier ./cmd/aksbackup-verifier
	@# kubectl runs kubectl_complete-aksbackup for plugin completion; the plugin serves it under that name.
	@ln -sf kubectl-aksbackup $(BIN_DIR)/kubectl_complete-aksbackup

verifier-image: build ## OCI image tarball of the static verifier (uid 65532, empty base), no Docker: bin/aksbackup-verifier-image.tar
	@# Only the lab tool's image builder is needed (go-containerregistry stays out of the plugin's go.mod), not the control plane.
	cd e2e && CGO_ENABLED=0 $(GO) build -o $(LAB_BIN)/aksbackup-lab ./cmd/aksbackup-lab
	$(LAB_BIN)/aksbackup-lab image --binary $(BIN_DIR)/aksbackup-verifier --ref $(VERIFIER_IMAGE) --out $(BIN_DIR)/aksbackup-verifier-image.tar

test: unit e2e ## Run every test: unit tests, then the lab end-to-end suite

unit: fmt-check vet tidy-check ## Unit tests of the plugin and of the lab's own code (no lab needed)
	$(GO) test -count=1 ./...
	cd e2e && $(GO) test -count=1 $$($(GO) list ./... | grep -v -E '/e2e$$')

e2e: build lab-build ## Boot the lab (unless it is up), run the end-to-end suite, stop what it started
	bash e2e/scripts/run-e2e.sh

demo: build lab-build ## Boot the lab, find the broken wiring, fix it, verify it
	bash e2e/scripts/demo.sh

bench: bench-triage build lab-build ## Benchmarks printed as ratios against grep and kubectl, measured in the same run
	bash e2e/scripts/bench.sh

bench-triage: build ## Triage throughput on a generated 1 GB log vs grep -c -E, and peak RSS (no lab needed)
	bash e2e/scripts/bench-triage.sh

fmt-check:
	@out=$$(gofmt -l cmd pkg plugin krew e2e); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

tidy-check:
	@$(GO) mod tidy -diff >/dev/null || { echo "go.mod is not tidy: run go mod tidy"; exit 1; }

vet:
	$(GO) vet ./...
	cd e2e && $(GO) vet ./...

clean: lab-down ## Remove build outputs (the lab's binary cache stays; rm -rf e2e/.cache to rebuild it)
	rm -rf $(BIN_DIR) dist
