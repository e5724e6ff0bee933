#!/usr/bin/env bash
# Sets up, builds and runs every test: unit + integration (+ netns when
# present) in a normal build, then the unit tests and the HTTP integration
# tests once more under ASan+UBSan, the tests that cross proxyd's worker
# threads under ThreadSanitizer, then the fuzzers.
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
jobs=$(nproc)

cmake -S . -B build -DWERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"
# Unit tests in parallel; integration and netns tests one at a time (they
# measure timing on a shared machine).
ctest --test-dir build -L unit -j"$jobs" --output-on-failure
ctest --test-dir build -L 'integration|netns' --output-on-failure

cmake -S . -B build-san -DWERROR=ON -DSANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-san -j"$jobs" --target unit_common unit_proxyd unit_vrrpd io_proxyd proxyd
ctest --test-dir build-san -L unit -j"$jobs" --output-on-failure
# The HTTP-mode integration tests once more against the sanitized proxyd:
# real clients and servers drive its parsers and stream code; any ASan or
# UBSan report aborts it and fails the test.
ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
  ctest --test-dir build-san -R 'integration\.test_(http_|error_responses|log_format|reload)' \
  --output-on-failure
# proxyd's worker threads (nbthread) under ThreadSanitizer: the threads test
# and the tests whose streams share queues, limits and servers across
# threads, or reload; a data race aborts proxyd and fails the test.
cmake -S . -B build-tsan -DWERROR=ON -DTSAN=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-tsan -j"$jobs" --target proxyd
TSAN_OPTIONS=halt_on_error=1:abort_on_error=1 \
  ctest --test-dir build-tsan \
  -R 'integration\.test_(threads|tcp_limits|tcp_balance|http_reuse|http_proxy|http_persist|reload|admin_socket)' \
  --output-on-failure
bash deploy/fuzz.sh
# The build types users and packagers type build too (binaries only, warnings
# as errors so that CI sees what -O3 or -O0 warns about).
for type in Release Debug; do
  cmake -S . -B "build-$type" -DWERROR=ON -DBUILD_TESTING=OFF -DCMAKE_BUILD_TYPE="$type" >/dev/null
  cmake --build "build-$type" -j"$jobs" --target proxyd vrrpd
done
