#!/usr/bin/env bash
# Builds the lab's pinned binaries (etcd, Kubernetes control plane, kubectl, kwok) into e2e/.cache/bin,
# and copies the data files the lab needs out of the pinned modules: kwok's stages and its Logs CRD,
# Velero's BackupStorageLocation CRD (from e2e/tools/velero, so the e2e module never requires Velero).
# A stamp of the kube and kwok wrapper modules' go.mod/go.sum skips the build when nothing changed;
# the data files are copied on every run (cheap).
set -euo pipefail

e2e_dir=$(cd "$(dirname "$0")/.." && pwd)
bin_dir="$e2e_dir/.cache/bin"
stamp="$bin_dir/.stamp"
mkdir -p "$bin_dir"

kube_version=v1.34.4
# Bump build_recipe when the build commands below change in a way that needs a rebuild.
build_recipe=2
want_stamp=$({ cat "$e2e_dir"/tools/kube/go.mod "$e2e_dir"/tools/kube/go.sum \
  "$e2e_dir"/tools/kwok/go.mod "$e2e_dir"/tools/kwok/go.sum; echo "$kube_version recipe $build_recipe"; } |
  sha256sum | cut -d' ' -f1)
binaries=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok)

# module_dir MODULE_DIR PATH prints where Go keeps the pinned module PATH (downloading it if needed).
module_dir() {
  (cd "$1" && go mod download "$2" && go list -m -f '{{.Dir}}' "$2")
}

# put SRC DST copies a data file into place atomically (a running lab may be reading the old one);
# module caches are read-only, hence the chmod.
put() {
  cp "$1" "$2.tmp" && chmod u+w "$2.tmp" && mv -f "$2.tmp" "$2"
}

# Data files, copied on every run.
mkdir -p "$bin_dir/crds" "$bin_dir/kwok-stages"
velero_dir=$(module_dir "$e2e_dir/tools/velero" github.com/vmware-tanzu/velero)
put "$velero_dir/config/crd/v1/bases/velero.io_backupstoragelocations.yaml" "$bin_dir/crds/velero.io_backupstoragelocations.yaml"
# Standalone kwok needs stage definitions; `kubectl logs` per pod needs its Logs CRD (--enable-crds=Logs).
kwok_dir=$(module_dir "$e2e_dir/tools/kwok" sigs.k8s.io/kwok)
put "$kwok_dir/kustomize/crd/bases/kwok.x-k8s.io_logs.yaml" "$bin_dir/crds/kwok.x-k8s.io_logs.yaml"
for s in node/fast/node-initialize.yaml node/heartbeat/node-heartbeat.yaml \
         pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
  put "$kwok_dir/kustomize/stage/$s" "$bin_dir/kwok-stages/$(echo "$s" | tr / _)"
done

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
for c in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
  echo "building $c $kube_version..."
  go build -trimpath -ldflags "$kube_ldflags" -o "$bin_dir/$c" "k8s.io/kubernetes/cmd/$c"
done

cd "$e2e_dir/tools/kwok"
echo "building kwok..."
go build -trimpath -ldflags "-s -w" -o "$bin_dir/kwok" sigs.k8s.io/kwok/cmd/kwok

echo "$want_stamp" > "$stamp"
echo "lab binaries built in $bin_dir"
