#!/usr/bin/env bash
# Sets up, builds and runs every test: unit + integration (+ netns when
# present) in a normal build, then the unit tests once more under ASan+UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/setup.sh
jobs=$(nproc)

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"
# Unit tests in parallel; integration and netns tests one at a time (they
# measure timing on a shared machine).
ctest --test-dir build -L unit -j"$jobs" --output-on-failure
ctest --test-dir build -L 'integration|netns' --output-on-failure

cmake -S . -B build-san -DSANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-san -j"$jobs" --target unit_common unit_proxyd unit_vrrpd io_proxyd
ctest --test-dir build-san -L unit -j"$jobs" --output-on-failure
bash deploy/fuzz.sh
