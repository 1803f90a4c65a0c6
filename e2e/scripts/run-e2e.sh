#!/usr/bin/env bash
# Runs the end-to-end suite against the lab. Boots the lab if none runs, and stops it again afterwards.
# Then, with the full suite (or E2E_CUSTOM_CLOUD=1; E2E_CUSTOM_CLOUD=0 skips it), runs the Azure-facing
# tests (E2E_CUSTOM_RUN) once more against a second lab whose cloud renames the public names (ARM
# audience, storage suffix, Entra on its own host), so a public name hard-coded in the tool fails.
set -euo pipefail
source "$(dirname "$0")/common.sh"
ensure_lab
trap stop_lab_if_started EXIT
export AKSBACKUP_BIN_DIR="$root/bin"
cd "$root/e2e"
go test -count=1 -timeout 30m ${E2E_RUN:+-run "$E2E_RUN"} .

custom=${E2E_CUSTOM_CLOUD:-}
if [[ -z $custom ]]; then
  if [[ -z ${E2E_RUN:-} ]]; then custom=1; else custom=0; fi
fi
if [[ $custom == 1 ]]; then
  stop_lab_if_started
  started_lab=false
  custom_dir="${lab_dir}-custom-cloud"
  trap '"$lab_bin" down --dir "$custom_dir"' EXIT
  AKSBACKUP_LAB_CLOUD=custom AKSBACKUP_LAB_REAL_NODE=0 "$lab_bin" up --dir "$custom_dir"
  echo "Azure-facing tests against the custom-cloud lab in $custom_dir"
  KUBECONFIG="$custom_dir/kubeconfig" AKSBACKUP_LAB_DIR="$custom_dir" \
    go test -count=1 -timeout 15m -run "${E2E_CUSTOM_RUN:-TestAzureSetupEndToEnd|TestVeleroAzure}" .
fi
