#!/usr/bin/env bash
# The main job: set up, build, then run proxyd from conf/tcp-basic.cfg in
# front of two small local web backends, and print how to try it.
# (The two-host VRRP lab replaces this once vrrpd and the pair land.)
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"
exec bash deploy/demo.sh build/proxyd/proxyd
