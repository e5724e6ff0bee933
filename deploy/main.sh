#!/usr/bin/env bash
# The main job: set up, build, bring up the seed's two-host lab in network
# namespaces (lb1 and lb2 each running proxyd + vrrpd, a client hitting the
# VIP 198.18.0.222 every 20 ms) and open its live view.
# Faults: python3 deploy/lab/lab.py kill-proxy|hang-proxy|cut|restore lb1
# Stop:   python3 deploy/lab/lab.py down
set -euo pipefail
# Root is needed (packages, network namespaces). Root runs it as it is; a
# sudo user is asked once through sudo (a fresh Debian 12 used as root may
# have no sudo at all, so the README's command does not start with it).
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "$0: needs root: run it as root (no sudo here)" >&2; exit 1; }
  exec sudo -E bash "$0" "$@"
fi
cd "$(dirname "$0")/.."
bash deploy/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"
python3 deploy/lab/lab.py down >/dev/null
python3 deploy/lab/lab.py up --build build
cat <<MSG
In another terminal, inject a fault and watch the VIP move:
    python3 deploy/lab/lab.py kill-proxy lb1     # or hang-proxy / cut, then restore lb1
Stop the lab with: python3 deploy/lab/lab.py down
MSG
sleep 2
exec python3 deploy/lab/lab.py view
