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

.PHONY: help build test unit e2e demo bench bench-triage bench-doctor bench-preflight fmt-check tidy-check vet clean verifier-image

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

# Every finding ID the tests make or rank is appended here (pkg/findings reads AKSBACKUP_FINDINGS_LOG);
# make test starts it afresh, and findings-coverage then fails naming each catalog ID no test produced.
FINDINGS_LOG := $(BIN_DIR)/findings-produced.log

test: ## Run every test: unit tests, the lab end-to-end suite, then the finding-ID coverage check (make release-test: the release build)
	@mkdir -p $(BIN_DIR) && rm -f $(FINDINGS_LOG)
	$(MAKE) unit e2e
	$(MAKE) findings-coverage

unit: fmt-check vet tidy-check ## Unit tests of the plugin and of the lab's own code (no lab needed)
	@mkdir -p $(BIN_DIR)
	AKSBACKUP_FINDINGS_LOG=$(FINDINGS_LOG) $(GO) test -count=1 ./...
	cd e2e && AKSBACKUP_FINDINGS_LOG=$(FINDINGS_LOG) $(GO) test -count=1 $$($(GO) list ./... | grep -v -E '/e2e$$')
	@# The Krew template against GoReleaser's archive names (no dist/ needed; make release-test does the rest).
	cd e2e/release && $(GO) test -count=1 -run 'TestTemplate|TestRender' ./krewmanifest/

e2e: build lab-build ## Boot the lab (unless it is up), run the end-to-end suite, stop what it started
	AKSBACKUP_FINDINGS_LOG=$(FINDINGS_LOG) bash e2e/scripts/run-e2e.sh

demo: build lab-build ## Boot the lab, find the broken wiring, fix it, verify it
	bash e2e/scripts/demo.sh

bench: bench-triage build lab-build ## Benchmarks printed as ratios against grep and kubectl, measured in the same run
	bash e2e/scripts/bench.sh

bench-doctor: build lab-build ## doctor vs the kubectl + az-style sequence for the same verdict, on the healthy lab
	bash e2e/scripts/bench-doctor.sh

bench-triage: build ## Triage throughput on a generated 1 GB log vs grep -c -E, and peak RSS (no lab needed)
	bash e2e/scripts/bench-triage.sh

bench-preflight: build lab-build ## preflight over 20,000 PVs on the lab: wall time, peak RSS (must stay < 150 MB), API requests
	bash e2e/scripts/bench-preflight.sh

.PHONY: bench-doctor-scale
bench-doctor-scale: build lab-build ## doctor over a namespace of 2,000 pods on the lab's extra cluster: wall time, peak RSS (must stay < 150 MB), API requests
	bash e2e/scripts/bench-doctor-scale.sh

.PHONY: dist release-test findings-coverage

dist: ## GoReleaser snapshot in dist/ (each platform's archive, checksums.txt) and the local Krew manifest dist/aksbackup.yaml
	bash e2e/scripts/build-release-tools.sh
	$(LAB_BIN)/goreleaser check
	@# ko needs Docker or a registry: the verifier image is `make verifier-image` here.
	$(LAB_BIN)/goreleaser release --snapshot --clean --skip=ko
	cd e2e/release && $(GO) run ./cmd/krew-manifest -template ../../krew/aksbackup.yaml -dist ../../dist -out ../../dist/aksbackup.yaml
	@echo "install: kubectl krew install --manifest=dist/aksbackup.yaml --archive=dist/<your platform's archive>"

release-test: dist ## Krew's validator on dist/aksbackup.yaml, and krew install of every archive from it, offline
	cd e2e/release && $(GO) mod tidy -diff && $(GO) vet ./... && $(GO) test -count=1 ./...

findings-coverage: ## Fail naming each catalog finding ID that the last unit/e2e runs never produced
	$(GO) run ./internal/catalog/cmd/findings-coverage $(FINDINGS_LOG)

fmt-check:
	@out=$$(gofmt -l cmd pkg plugin krew e2e); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

tidy-check:
	@$(GO) mod tidy -diff >/dev/null || { echo "go.mod is not tidy: run go mod tidy"; exit 1; }

vet:
	$(GO) vet ./...
	cd e2e && $(GO) vet ./...

clean: lab-down ## Remove build outputs (the lab's binary cache stays; rm -rf e2e/.cache to rebuild it)
	rm -rf $(BIN_DIR) dist
