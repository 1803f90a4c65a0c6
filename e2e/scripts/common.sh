# Shared by the e2e, demo and bench scripts: paths, and a lab that is booted once and reused.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
lab_dir=${AKSBACKUP_LAB_DIR:-$root/e2e/.lab}
lab_bin=$root/e2e/.cache/bin/aksbackup-lab
export PATH="$root/bin:$root/e2e/.cache/bin:$PATH"
started_lab=false

lab_is_up() {
  [[ -f "$lab_dir/lab.json" && -f "$lab_dir/kubeconfig" ]] &&
    kubectl --kubeconfig "$lab_dir/kubeconfig" --request-timeout=3s get --raw /readyz >/dev/null 2>&1
}

# ensure_lab boots the lab unless one is already running; stop_lab_if_started undoes only our boot.
ensure_lab() {
  if lab_is_up; then
    echo "Using the running lab in $lab_dir"
  else
    "$lab_bin" up --dir "$lab_dir"
    started_lab=true
  fi
  export KUBECONFIG="$lab_dir/kubeconfig" AKSBACKUP_LAB_DIR="$lab_dir"
}

stop_lab_if_started() {
  if $started_lab; then "$lab_bin" down --dir "$lab_dir"; fi
}
