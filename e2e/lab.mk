# The local lab: included by the top-level Makefile.
LAB_DIR ?= $(CURDIR)/e2e/.lab
LAB_BIN := $(CURDIR)/e2e/.cache/bin

.PHONY: lab-build lab-up lab-down

lab-build: ## Build the lab's pinned binaries (cached) and the lab tools; install containerd for the real node when missing
	bash e2e/scripts/install-node-deps.sh
	bash e2e/scripts/build-tools.sh
	cd e2e && CGO_ENABLED=0 $(GO) build -o $(LAB_BIN)/aksbackup-lab ./cmd/aksbackup-lab
	cd e2e && CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w" -o $(LAB_BIN)/lab-pause ./cmd/lab-pause
	cd e2e && CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w" -o $(LAB_BIN)/lab-podcheck ./cmd/lab-podcheck

lab-up: lab-build ## Boot the lab on free loopback ports (with a real kubelet node when the host can) and install the AKS Backup fixture
	$(LAB_BIN)/aksbackup-lab up --dir $(LAB_DIR)
	$(LAB_BIN)/aksbackup-lab fixture --dir $(LAB_DIR)
	@echo "export KUBECONFIG=$(LAB_DIR)/kubeconfig PATH=$(CURDIR)/bin:$(LAB_BIN):\$$PATH"

lab-down: ## Stop every process the lab started, and remove its real node (pods, kubelet, containerd, cgroups, bridge)
	@if [ -x $(LAB_BIN)/aksbackup-lab ]; then $(LAB_BIN)/aksbackup-lab down --dir $(LAB_DIR); else echo "no lab tool built; nothing to stop"; fi
