#!/usr/bin/env bash
# make demo: boot the lab, show the plugin finding the un-wired AKS Backup extension, fix it, verify it.
set -uo pipefail
source "$(dirname "$0")/common.sh"
set -e
ensure_lab
client_id=$(sed -n 's/.*"extensionClientID": *"\([^"]*\)".*/\1/p' "$lab_dir/lab.json")
client_id=${client_id:-c0ffee00-aaaa-4bbb-8ccc-000000000001}

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

step "aksbackup-lab fixture --reset   # an AKS-Backup-extension-like namespace, not wired yet"
"$lab_bin" fixture --dir "$lab_dir" --namespace dataprotection-microsoft --reset
set +e
step "kubectl aksbackup identity status"
kubectl aksbackup identity status
status_rc=$?
set -e
echo "(exit code $status_rc: error findings)"
[[ $status_rc -eq 1 ]] || { echo "demo: expected identity status to report errors (exit 1)"; exit 1; }

step "kubectl aksbackup identity configure --client-id $client_id --yes"
kubectl aksbackup identity configure --client-id "$client_id" --yes

step "kubectl aksbackup identity status"
kubectl aksbackup identity status
echo "(exit code 0: healthy)"

step "kubectl aksbackup identity configure --client-id $client_id --yes   # again: idempotent"
kubectl aksbackup identity configure --client-id "$client_id" --yes

cat <<MSG

The lab keeps running so you can explore it:
  export KUBECONFIG=$KUBECONFIG PATH=$root/bin:$root/e2e/.cache/bin:\$PATH
  kubectl aksbackup identity status -o yaml
Stop it with: make lab-down
MSG
