#!/usr/bin/env bash
# Runs the end-to-end suite against the lab. Boots the lab if none runs, and stops it again afterwards.
set -euo pipefail
source "$(dirname "$0")/common.sh"
ensure_lab
trap stop_lab_if_started EXIT
export AKSBACKUP_BIN_DIR="$root/bin"
cd "$root/e2e"
go test -count=1 -timeout 30m ${E2E_RUN:+-run "$E2E_RUN"} .
