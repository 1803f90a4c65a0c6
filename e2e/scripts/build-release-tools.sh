#!/usr/bin/env bash
# Builds the release tools `make dist` and its tests use into e2e/.cache/bin: GoReleaser, krew, and
# krew's manifest validator, pinned in the e2e/release module (apart from the plugin's go.mod, and
# apart from e2e/tools so that the lab binaries' stamp does not change with them).
# A stamp of that module's go.mod/go.sum skips the build when nothing changed.
set -euo pipefail

e2e_dir=$(cd "$(dirname "$0")/.." && pwd)
bin_dir="$e2e_dir/.cache/bin"
stamp="$bin_dir/.release-stamp"
mkdir -p "$bin_dir"

want_stamp=$(cat "$e2e_dir/release/go.mod" "$e2e_dir/release/go.sum" "$0" | sha256sum | cut -d' ' -f1)
declare -A packages=(
  [goreleaser]=github.com/goreleaser/goreleaser/v2
  [krew]=sigs.k8s.io/krew/cmd/krew
  [validate-krew-manifest]=sigs.k8s.io/krew/cmd/validate-krew-manifest
)

up_to_date=true
for b in "${!packages[@]}"; do [[ -x "$bin_dir/$b" ]] || up_to_date=false; done
if $up_to_date && [[ -f "$stamp" && "$(cat "$stamp")" == "$want_stamp" ]]; then
  echo "release tools up to date in $bin_dir"
  exit 0
fi

cd "$e2e_dir/release"
export CGO_ENABLED=0
for b in goreleaser krew validate-krew-manifest; do
  echo "building $b (${packages[$b]})..."
  go build -trimpath -ldflags "-s -w" -o "$bin_dir/$b" "${packages[$b]}"
done
echo "$want_stamp" > "$stamp"
echo "release tools built in $bin_dir"
