#!/usr/bin/env bash
# preflight over 20,000 PersistentVolumes on the lab: wall time, peak RSS and API request count, beside
# `kubectl get pv -o json` (the whole list in one response) measured in the same run. The only
# assertion is the issue's memory bound: preflight's peak RSS stays under 150 MB. Times are printed,
# never asserted.
set -euo pipefail
source "$(dirname "$0")/common.sh"
count=${BENCH_PREFLIGHT_PVS:-20000}
plugin=${AKSBACKUP_BIN_DIR:-$root/bin}/kubectl-aksbackup
prefix=bench-pv
limit_kb=$((150 * 1024))
pvgen=$root/e2e/.cache/bin/lab-pvgen
(cd "$root/e2e" && CGO_ENABLED=0 go build -o "$pvgen" ./cmd/lab-pvgen)
ensure_lab
cleanup() {
  "$pvgen" --kubeconfig "$KUBECONFIG" --delete --prefix "$prefix" >/dev/null 2>&1 || true
  stop_lab_if_started
}
trap cleanup EXIT
"$pvgen" --kubeconfig "$KUBECONFIG" --count "$count" --prefix "$prefix"

work=$(mktemp -d)
# measure NAME CMD...: runs CMD under /usr/bin/time -v, stdout to $work/NAME.out, and prints nothing.
measure() {
  local name=$1; shift
  /usr/bin/time -v -o "$work/$name.time" "$@" >"$work/$name.out" 2>"$work/$name.err" || echo $? >"$work/$name.code"
}
wall_of() { awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/$1.time"; }
rss_of() { awk -F': ' '/Maximum resident set size/ {print $2}' "$work/$1.time"; }

measure preflight "$plugin" preflight --no-azure -o json
code=$(cat "$work/preflight.code" 2>/dev/null || echo 0)
if ((code > 1)); then
  echo "preflight could not run (exit $code):"; cat "$work/preflight.err"; exit 1
fi
measure kubectl kubectl get pv -o json

rss=$(rss_of preflight) base_rss=$(rss_of kubectl)
printf '\npreflight over %s PersistentVolumes (exit %s: findings, as the mix holds unsupported volumes)\n' "$(jq .volumes.total "$work/preflight.out")" "$code"
printf '  wall time        %s\n' "$(wall_of preflight)"
printf '  peak RSS         %d MB (bound: 150 MB)\n' $((rss / 1024))
printf '  API requests     %s (%s pages of persistent volumes)\n' "$(jq .requests.kubernetes "$work/preflight.out")" "$(jq .volumes.pages "$work/preflight.out")"
jq -r '.volumes.classes[] | "    \(.class): \(.count)"' "$work/preflight.out"
printf '  baseline: kubectl get pv -o json: %s wall, %d MB peak RSS (%.1fx preflight'"'"'s)\n' "$(wall_of kubectl)" $((base_rss / 1024)) "$(echo "$base_rss $rss" | awk '{printf "%.1f", $1 / $2}')"
rm -rf "$work"
if ((rss > limit_kb)); then
  echo "FAIL: preflight's peak RSS $((rss / 1024)) MB is over 150 MB"
  exit 1
fi
