#!/usr/bin/env bash
# The main job: set up, build, bring up the seed's two-host lab in network
# namespaces (lb1 and lb2 each running proxyd + vrrpd, a client hitting the
# VIP 198.18.0.222 every 20 ms) and open its live view.
# Faults: python3 deploy/lab/lab.py kill-proxy|hang-proxy|cut|restore lb1
# Stop:   python3 deploy/lab/lab.py down
set -euo pipefail
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
