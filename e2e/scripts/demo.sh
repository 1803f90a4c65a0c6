#!/usr/bin/env bash
# make demo: boot the lab, show the plugin finding the un-wired AKS Backup extension (BSL Unavailable,
# root cause from Velero's logs), fix it (Azure and cluster halves), and verify it until the BSL is
# Available.
set -uo pipefail
source "$(dirname "$0")/common.sh"
set -e
ensure_lab
# The plugin reaches the lab's Azure doubles (ARM, Entra) as the admin app, like `az login` would.
eval "$("$lab_bin" env --dir "$lab_dir")"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
expect() { # expect CODE COMMAND...: run, show, and stop the demo if the exit code is not CODE
  local want=$1; shift
  set +e; "$@"; local rc=$?; set -e
  echo "(exit code $rc)"
  [[ $rc -eq $want ]] || { echo "demo: expected exit code $want from: $*"; exit 1; }
}

step "aksbackup-lab fixture --reset && aksbackup-lab scenario --base unwired   # the extension, not wired yet"
"$lab_bin" fixture --dir "$lab_dir" --namespace dataprotection-microsoft --reset
"$lab_bin" scenario --dir "$lab_dir" --base unwired
sleep 3 # let the Velero double validate the new BSL once

step "kubectl aksbackup bsl   # the page: BackupStorageLocation Unavailable"
expect 1 kubectl aksbackup bsl

step "kubectl aksbackup triage   # why, from Velero's logs"
expect 1 kubectl aksbackup triage

step "kubectl aksbackup identity status   # what is missing, cluster and Azure"
expect 1 kubectl aksbackup identity status

step "kubectl aksbackup identity configure --yes --wait-bsl --bsl-timeout 3m"
expect 0 kubectl aksbackup identity configure --yes --wait-bsl --bsl-timeout 3m

step "kubectl aksbackup bsl"
expect 0 kubectl aksbackup bsl

step "kubectl aksbackup identity configure --yes   # again: idempotent"
expect 0 kubectl aksbackup identity configure --yes

cat <<MSG

The lab keeps running so you can explore it:
  export KUBECONFIG=$KUBECONFIG PATH=$root/bin:$root/e2e/.cache/bin:\$PATH
  eval "\$($lab_bin env --dir $lab_dir)"   # the Azure doubles
  kubectl aksbackup triage -o json
  $lab_bin scenario --base wired --fault network-deny   # break it another way, then: kubectl aksbackup bsl
Stop it with: make lab-down
MSG
