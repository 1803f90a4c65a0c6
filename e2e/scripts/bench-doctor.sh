#!/usr/bin/env bash
# doctor against the sequence an on-call engineer runs by hand for the same verdict, measured in the
# same run on the healthy lab (printed, never asserted):
#   kubectl: auth can-i x5, get sa x3, get deploy x3, get pods, get bsl, logs of the velero container;
#   az-style: one process per ARM read (curl with a token fetched once, as az caches it): the cluster,
#   its extensions, the identity, its federated credentials, the role assignments, the storage account
#   and the container.
set -euo pipefail
source "$(dirname "$0")/common.sh"
ensure_lab
trap stop_lab_if_started EXIT
runs=${BENCH_RUNS:-5}
ns=bench-doctor
"$lab_bin" fixture --dir "$lab_dir" --namespace "$ns" --reset >/dev/null
"$lab_bin" scenario --dir "$lab_dir" --base wired --namespace "$ns" >/dev/null
eval "$("$lab_bin" env --dir "$lab_dir")"
kubectl aksbackup identity configure -n "$ns" --yes --wait-bsl --bsl-timeout 3m >/dev/null

arm=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["armURL"].rstrip("/"))' "$lab_dir/lab.json")
entra=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["entraURL"].rstrip("/"))' "$lab_dir/lab.json")
sub=$AZURE_SUBSCRIPTION_ID
rg=lab-rg
token=$(curl -s --cacert "$SSL_CERT_FILE" "$entra/$AZURE_TENANT_ID/oauth2/v2.0/token" \
  --data-urlencode grant_type=client_credentials --data-urlencode "client_id=$AZURE_CLIENT_ID" \
  --data-urlencode "client_secret=$AZURE_CLIENT_SECRET" --data-urlencode "scope=https://management.azure.com/.default" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
cluster=$(kubectl aksbackup identity status -n "$ns" -o json | python3 -c 'import json,sys; d=json.load(sys.stdin); print((d.get("azure") or {}).get("clusterID",""))')
[[ -n $cluster ]] || cluster="/subscriptions/$sub/resourceGroups/$rg/providers/Microsoft.ContainerService/managedClusters/lab-aks"
agent=$(kubectl get pods -n "$ns" -l app=dataprotection-microsoft-kubernetes-agent -o name | head -1)

arm_get() { curl -s -o /dev/null --cacert "$SSL_CERT_FILE" -H "Authorization: Bearer $token" "$arm$1"; }
manual_sequence() {
  for r in pods serviceaccounts deployments.apps backupstoragelocations.velero.io; do kubectl auth can-i list "$r" -n "$ns" >/dev/null || true; done
  kubectl auth can-i get pods --subresource=log -n "$ns" >/dev/null || true
  for sa in dataprotection-microsoft-controller-sa dataprotection-microsoft-kubernetes-agent-server dataprotection-microsoft-geneva-sa; do kubectl get sa -n "$ns" "$sa" -o json >/dev/null; done
  for d in dataprotection-microsoft-controller dataprotection-microsoft-kubernetes-agent dataprotection-microsoft-geneva-service; do kubectl get deploy -n "$ns" "$d" -o json >/dev/null; done
  kubectl get pods -n "$ns" -o json >/dev/null
  kubectl get backupstoragelocations.velero.io -n "$ns" -o json >/dev/null
  [[ -z $agent ]] || kubectl logs -n "$ns" "$agent" -c velero >/dev/null || true
  arm_get "$cluster?api-version=2025-01-01"
  arm_get "$cluster/providers/Microsoft.KubernetesConfiguration/extensions?api-version=2023-05-01"
  arm_get "/subscriptions/$sub/resourceGroups/MC_lab/providers/Microsoft.ManagedIdentity/userAssignedIdentities/azure-aks-backup?api-version=2023-01-31"
  arm_get "/subscriptions/$sub/resourceGroups/MC_lab/providers/Microsoft.ManagedIdentity/userAssignedIdentities/azure-aks-backup/federatedIdentityCredentials?api-version=2023-01-31"
  arm_get "/subscriptions/$sub/resourceGroups/$rg/providers/Microsoft.Storage/storageAccounts/labstorage/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01"
  arm_get "/subscriptions/$sub/resourceGroups/$rg/providers/Microsoft.Storage/storageAccounts/labstorage?api-version=2023-05-01"
  arm_get "/subscriptions/$sub/resourceGroups/$rg/providers/Microsoft.Storage/storageAccounts/labstorage/blobServices/default/containers/velero?api-version=2023-05-01"
}
doctor_run() { kubectl-aksbackup doctor -n "$ns" -o json >/dev/null || true; }

manual_sequence; doctor_run # warm caches
t_manual=0 t_doctor=0
for ((i = 0; i < runs; i++)); do
  s=$(date +%s%N); manual_sequence; e=$(date +%s%N); t_manual=$((t_manual + (e - s) / 1000))
  s=$(date +%s%N); doctor_run; e=$(date +%s%N); t_doctor=$((t_doctor + (e - s) / 1000))
done
stats=$(kubectl-aksbackup doctor -n "$ns" -o json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["verdict"], d["waves"], d["requests"]["kubernetes"], d["requests"]["azure"])')
read -r verdict waves kreq areq <<<"$stats"
ms() { awk -v us="$1" -v n="$runs" 'BEGIN { printf "%.0f", us / n / 1000 }'; }
printf '\ndoctor benchmark on the healthy lab (%d runs each, mean wall time per run)\n' "$runs"
printf '  %-58s %7s ms   (22 commands, sequential)\n' "kubectl + az-style sequence (baseline)" "$(ms "$t_manual")"
printf '  %-58s %7s ms   ratio %s; verdict %s, %s waves, %s Kubernetes + %s ARM requests\n' "kubectl-aksbackup doctor" "$(ms "$t_doctor")" \
  "$(awk -v a="$t_doctor" -v b="$t_manual" 'BEGIN { printf "%.2f", a / b }')" "$verdict" "$waves" "$kreq" "$areq"
printf '  target: ratio <= 0.30 and at most 3 waves\n'
