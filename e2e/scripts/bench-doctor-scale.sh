#!/usr/bin/env bash
# doctor over a namespace with 2,000 pods (issue 11's scale acceptance): wall time, peak RSS and API
# request count, beside `kubectl get pods -o json` (the whole list in one response) in the same run.
# The pods live on the lab's extra cluster aks-lab-east (no scheduler or node: they cost only their API
# objects), written Running and Ready as the workload identity webhook leaves them; all but two are
# replicas of the Velero deployment, so doctor's pod listing, its wiring analysis of every pod and the
# log triage (every replica's state, and the logs of at most --max-pod-logs of them) all run over them. The only assertion is the memory
# bound: doctor's peak RSS stays under 150 MB. Times are printed, never asserted.
set -euo pipefail
source "$(dirname "$0")/common.sh"
count=${BENCH_DOCTOR_PODS:-2000}
context=${BENCH_DOCTOR_CONTEXT:-aks-lab-east}
ns=bench-doctor-scale
plugin=${AKSBACKUP_BIN_DIR:-$root/bin}/kubectl-aksbackup
limit_kb=$((150 * 1024))
podgen=$root/e2e/.cache/bin/lab-podgen
(cd "$root/e2e" && CGO_ENABLED=0 go build -o "$podgen" ./cmd/lab-podgen)
ensure_lab
work=$(mktemp -d)
cleanup() {
  "$podgen" --dir "$lab_dir" --context "$context" --namespace "$ns" --delete >/dev/null 2>&1 || true
  rm -rf "$work"
  stop_lab_if_started
}
trap cleanup EXIT
"$podgen" --dir "$lab_dir" --context "$context" --namespace "$ns" --pods "$count"

# measure NAME CMD...: runs CMD under /usr/bin/time -v, stdout to $work/NAME.out, stderr to $work/NAME.err.
measure() {
  local name=$1; shift
  /usr/bin/time -v -o "$work/$name.time" "$@" >"$work/$name.out" 2>"$work/$name.err" || echo $? >"$work/$name.code"
}
wall_of() { awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/$1.time"; }
rss_of() { awk -F': ' '/Maximum resident set size/ {print $2}' "$work/$1.time"; }

measure doctor "$plugin" doctor --context "$context" -n "$ns" --no-azure -v -o json
code=$(cat "$work/doctor.code" 2>/dev/null || echo 0)
if ((code > 1)); then
  echo "doctor could not run (exit $code):"; cat "$work/doctor.err"; exit 1
fi
measure kubectl kubectl --context "$context" get pods -n "$ns" -o json

pods=$(jq '.items | length' "$work/kubectl.out")
summary=$(grep '^doctor:' "$work/doctor.err")
requests=$(sed -E 's/.* ([0-9]+) Kubernetes and.*/\1/' <<<"$summary")
rss=$(rss_of doctor) base_rss=$(rss_of kubectl)
printf '\ndoctor over namespace %s on %s: %s pods; verdict %s (exit %s)\n' "$ns" "$context" "$pods" "$(jq -r .verdict "$work/doctor.out")" "$code"
printf '  wall time        %s\n' "$(wall_of doctor)"
printf '  peak RSS         %d MB (bound: 150 MB)\n' $((rss / 1024))
printf '  API requests     %s (pods listed %s a page; log triage reads the logs of at most 10 of the %s Velero replicas)\n' "$requests" 500 $((pods - 2))
printf '  doctor -v        %s\n' "$summary"
grep -E '^  wave' "$work/doctor.err" | sed 's/^/  /'
printf '  baseline: kubectl get pods -o json: %s wall, %d MB peak RSS\n' "$(wall_of kubectl)" $((base_rss / 1024))
if ((pods < count)); then
  echo "FAIL: the namespace holds $pods pods, want $count"
  exit 1
fi
if ((rss > limit_kb)); then
  echo "FAIL: doctor's peak RSS $((rss / 1024)) MB is over 150 MB"
  exit 1
fi
echo "PASS: doctor's peak RSS $((rss / 1024)) MB is under 150 MB"
