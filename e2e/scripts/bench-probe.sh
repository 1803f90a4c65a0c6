#!/usr/bin/env bash
# Probe latency on the lab: median of 10 end-to-end runs of `kubectl aksbackup probe` (process start to
# exit, and the probe's own durationMs), local mode, and cluster mode when the lab has a real node.
# Targets: local < 1 s, cluster < 8 s.
set -euo pipefail
source "$(dirname "$0")/common.sh"
ensure_lab
trap stop_lab_if_started EXIT
runs=${BENCH_PROBE_RUNS:-10}
ns=dataprotection-microsoft
"$lab_bin" fixture --dir "$lab_dir" --namespace "$ns" >/dev/null
"$lab_bin" scenario --dir "$lab_dir" --base wired --namespace "$ns" >/dev/null
eval "$("$lab_bin" env --dir "$lab_dir")"
kubectl aksbackup identity configure -n "$ns" --client-id c0ffee00-aaaa-4bbb-8ccc-000000000001 --yes --timeout 3m >/dev/null
blob_url=$(jq -r .blobURL "$lab_dir/lab.json")

# median of the numbers on stdin
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) printf "%.0f", v[(NR + 1) / 2]; else printf "%.0f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

bench_mode() {
  local mode=$1; shift
  local walls=() selfs=()
  for ((i = 0; i < runs; i++)); do
    start=$(date +%s%N)
    out=$(kubectl aksbackup probe -n "$ns" --mode "$mode" "$@" -o json) || { echo "probe --mode $mode failed:"; echo "$out"; return 1; }
    end=$(date +%s%N)
    walls+=($(((end - start) / 1000000)))
    selfs+=("$(jq -r '.results[0].durationMs' <<<"$out")")
  done
  printf '  %-8s median %6s ms end to end, %6s ms inside the probe (%d runs)\n' "$mode" \
    "$(printf '%s\n' "${walls[@]}" | median)" "$(printf '%s\n' "${selfs[@]}" | median)" "$runs"
}

printf '\nprobe latency on the lab (median of %d)\n' "$runs"
bench_mode local --storage-account-uri "${blob_url}devstoreaccount1"
# The lab imports bin/aksbackup-verifier into its real node at boot; AKSBACKUP_VERIFIER_IMAGE names another.
image=${AKSBACKUP_VERIFIER_IMAGE:-$(jq -r '.realNode.images.verifier // empty' "$lab_dir/lab.json")}
if [[ -n "$image" ]]; then
  pod_entra=$(jq -r .podEntraURL "$lab_dir/lab.json") pod_blob=$(jq -r .podBlobURL "$lab_dir/lab.json")
  cloud=$(mktemp) ca_cm=lab-ca
  jq -n --arg arm "$(jq -r .armURL "$lab_dir/lab.json")" --arg entra "$pod_entra" \
    '{name: "AzureLabPods", resourceManagerEndpoint: $arm, activeDirectoryAuthorityHost: $entra, storageSuffix: "lab.local"}' >"$cloud"
  kubectl create configmap -n "$ns" "$ca_cm" --from-file=ca.crt="$SSL_CERT_FILE" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
  bench_mode cluster --image "$image" --ca-bundle-configmap "$ca_cm" --cloud-config "$cloud" --storage-account-uri "${pod_blob}devstoreaccount1"
  rm -f "$cloud"
else
  echo "  cluster  skipped: the lab has no real node (another lab holds it, or the host cannot run one)"
fi
printf '  targets: local < 1000 ms, cluster < 8000 ms (pod start included)\n'
