#!/usr/bin/env bash
# Benchmarks printed as ratios against a baseline measured in the same run (never asserted in tests).
#   identity status  vs  the kubectl sequence an admin types: 3x get sa, 3x get deploy, get pods.
# Both sides start a process per command and read the same objects from the same lab API server.
set -euo pipefail
source "$(dirname "$0")/common.sh"
ensure_lab
trap stop_lab_if_started EXIT
runs=${BENCH_RUNS:-20}
ns=dataprotection-microsoft
"$lab_bin" fixture --dir "$lab_dir" --namespace "$ns" >/dev/null

sas=(dataprotection-microsoft-controller-sa dataprotection-microsoft-kubernetes-agent-server dataprotection-microsoft-geneva-sa)
deploys=(dataprotection-microsoft-controller dataprotection-microsoft-kubernetes-agent dataprotection-microsoft-geneva-service)

kubectl_sequence() {
  for sa in "${sas[@]}"; do kubectl get sa -n "$ns" "$sa" -o json >/dev/null; done
  for d in "${deploys[@]}"; do kubectl get deploy -n "$ns" "$d" -o json >/dev/null; done
  kubectl get pods -n "$ns" -o json >/dev/null
}
plugin_via_kubectl() { kubectl aksbackup identity status -o json >/dev/null || true; }
plugin_direct() { kubectl-aksbackup identity status -o json >/dev/null || true; }

# Milliseconds for $runs calls of a function; the three are interleaved so drift hits them alike.
declare -A total=([kubectl_sequence]=0 [plugin_via_kubectl]=0 [plugin_direct]=0)
for fn in "${!total[@]}"; do $fn; done # warm caches (discovery, page cache)
for ((i = 0; i < runs; i++)); do
  for fn in kubectl_sequence plugin_via_kubectl plugin_direct; do
    start=$(date +%s%N); $fn; end=$(date +%s%N)
    total[$fn]=$((total[$fn] + (end - start) / 1000))
  done
done
ms() { awk -v us="$1" -v n="$runs" 'BEGIN { printf "%.1f", us / n / 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
base=${total[kubectl_sequence]}
printf '\nidentity status benchmark (%d runs each, mean wall time per run)\n' "$runs"
printf '  %-48s %8s ms\n' "kubectl sequence (7 commands, baseline)" "$(ms "$base")"
printf '  %-48s %8s ms   ratio %s\n' "kubectl aksbackup identity status" "$(ms "${total[plugin_via_kubectl]}")" "$(ratio "${total[plugin_via_kubectl]}" "$base")"
printf '  %-48s %8s ms   ratio %s\n' "kubectl-aksbackup identity status (direct)" "$(ms "${total[plugin_direct]}")" "$(ratio "${total[plugin_direct]}" "$base")"
printf '  target: ratio <= 0.50\n'

# Probe latency (local, and cluster on the real node): median of 10.
bash "$(dirname "$0")/bench-probe.sh"

# doctor against the kubectl + az-style sequence for the same verdict.
bash "$(dirname "$0")/bench-doctor.sh"
