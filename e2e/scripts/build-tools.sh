#!/usr/bin/env bash
# Builds the lab's pinned binaries (etcd, Kubernetes control plane, kubectl, kwok) into e2e/.cache/bin,
# and copies the data files they need (kwok stages, Velero's BSL CRD).
# A stamp of the wrapper modules' go.mod/go.sum skips the build when nothing changed.
set -euo pipefail

e2e_dir=$(cd "$(dirname "$0")/.." && pwd)
bin_dir="$e2e_dir/.cache/bin"
stamp="$bin_dir/.stamp"
mkdir -p "$bin_dir"

kube_version=v1.34.4
want_stamp=$(cat "$e2e_dir"/tools/*/go.mod "$e2e_dir"/tools/*/go.sum "$0" | sha256sum | cut -d' ' -f1)
binaries=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet kwok)

# Velero's real BackupStorageLocation CRD ships in its module, which the e2e module requires.
(cd "$e2e_dir" && go mod download github.com/vmware-tanzu/velero)
velero_dir=$(cd "$e2e_dir" && go list -m -f '{{.Dir}}' github.com/vmware-tanzu/velero)
mkdir -p "$bin_dir/crds"
cp "$velero_dir/config/crd/v1/bases/velero.io_backupstoragelocations.yaml" "$bin_dir/crds/"
# kwok's Logs CRD: the velero double serves each Velero pod's log through a per-pod Logs object
# (kwok runs with --enable-crds=Logs).
kwok_dir=$(cd "$e2e_dir/tools/kwok" && go mod download sigs.k8s.io/kwok && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)
cp "$kwok_dir/kustomize/crd/bases/kwok.x-k8s.io_logs.yaml" "$bin_dir/crds/"
chmod u+w "$bin_dir/crds/"*.yaml

# Azurite (the blob storage emulator) from npm, pinned.
azurite_dir="$e2e_dir/.cache/azurite"
if [[ ! -x "$azurite_dir/node_modules/.bin/azurite-blob" ]]; then
  echo "installing azurite 3.37.0 from npm..."
  mkdir -p "$azurite_dir"
  npm install --prefix "$azurite_dir" --no-audit --no-fund --loglevel=error azurite@3.37.0
fi

up_to_date=true
for b in "${binaries[@]}"; do [[ -x "$bin_dir/$b" ]] || up_to_date=false; done
if $up_to_date && [[ -f "$stamp" && "$(cat "$stamp")" == "$want_stamp" ]]; then
  echo "lab binaries up to date in $bin_dir"
  exit 0
fi

export CGO_ENABLED=0
kube_ldflags="-s -w \
 -X k8s.io/component-base/version.gitVersion=$kube_version \
 -X k8s.io/component-base/version.gitMajor=1 \
 -X k8s.io/component-base/version.gitMinor=34 \
 -X k8s.io/component-base/version.gitTreeState=clean \
 -X k8s.io/client-go/pkg/version.gitVersion=$kube_version \
 -X k8s.io/client-go/pkg/version.gitMajor=1 \
 -X k8s.io/client-go/pkg/version.gitMinor=34"

cd "$e2e_dir/tools/kube"
echo "building etcd (go.etcd.io/etcd/server/v3)..."
go build -trimpath -ldflags "-s -w" -o "$bin_dir/etcd" ./cmd/etcd
for c in kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet; do
  echo "building $c $kube_version..."
  go build -trimpath -ldflags "$kube_ldflags" -o "$bin_dir/$c" "k8s.io/kubernetes/cmd/$c"
done

cd "$e2e_dir/tools/kwok"
echo "building kwok..."
go build -trimpath -ldflags "-s -w" -o "$bin_dir/kwok" sigs.k8s.io/kwok/cmd/kwok
# Standalone kwok needs stage definitions; they ship inside its module.
kwok_dir=$(go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)
rm -rf "$bin_dir/kwok-stages" && mkdir -p "$bin_dir/kwok-stages"
for s in node/fast/node-initialize.yaml node/heartbeat/node-heartbeat.yaml \
         pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
  cp "$kwok_dir/kustomize/stage/$s" "$bin_dir/kwok-stages/$(echo "$s" | tr / _)"
done

echo "$want_stamp" > "$stamp"
echo "lab binaries built in $bin_dir"
