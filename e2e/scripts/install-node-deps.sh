#!/usr/bin/env bash
# Installs what the lab's real node needs from Debian when it is missing: containerd, runc and the
# CNI plugins (bridge, host-local in /usr/lib/cni), and iptables (the lab's NetworkPolicy egress
# enforcement). apt starts nothing; the lab runs its own
# containerd. Without root (or with AKSBACKUP_LAB_REAL_NODE=0) it installs nothing, and the lab
# runs with the kwok node only.
set -euo pipefail

case "${AKSBACKUP_LAB_REAL_NODE:-auto}" in
  0|false|off|no) echo "real node disabled (AKSBACKUP_LAB_REAL_NODE=${AKSBACKUP_LAB_REAL_NODE}); not installing containerd"; exit 0 ;;
esac

need=()
command -v containerd >/dev/null || need+=(containerd)
command -v runc >/dev/null || need+=(runc)
[[ -x /usr/lib/cni/bridge && -x /usr/lib/cni/host-local ]] || need+=(containernetworking-plugins)
command -v iptables >/dev/null || need+=(iptables)
if ((${#need[@]} == 0)); then
  exit 0
fi
if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
  echo "the lab's real node needs ${need[*]} (Debian packages) and root; the lab will run with the kwok node only"
  exit 0
fi
echo "installing ${need[*]} from Debian for the lab's real node..."
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
