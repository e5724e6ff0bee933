#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang (build-fuzz, FUZZ=ON,
# ASan+UBSan) and runs each one for FUZZ_SECONDS (default 20) on a temporary
# copy of its seed corpus (tests/fuzz/corpus/<target>, with
# tests/fuzz/<target>.dict when present) plus the reproducers of
# past findings (tests/data/fuzz-regressions/<target>), so the repository is
# never written to. Prints one line per target; exits non-zero when any target
# finds a crash, sanitizer report, leak, timeout or OOM. The reproducer and the
# fuzzer's log are kept in build-fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-20}
jobs=$(nproc)
build=build-fuzz
targets=(fuzz_haproxy_config fuzz_keepalived_lexer fuzz_values fuzz_http1 fuzz_vrrp_packet)

cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DFUZZ=ON -DSANITIZE=ON -DBUILD_TESTING=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$jobs" --target "${targets[@]}"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

failed=0
for t in "${targets[@]}"; do
  corpus="$tmp/corpus-$t"
  mkdir -p "$corpus"
  cp tests/fuzz/corpus/"$t"/* "$corpus"/
  if [[ -d tests/data/fuzz-regressions/$t ]]; then
    for f in tests/data/fuzz-regressions/"$t"/*; do
      [[ -f $f ]] && cp "$f" "$corpus/regression-$(basename "$f")"
    done
  fi
  artifacts="$build/artifacts/$t"
  rm -rf "$artifacts"
  mkdir -p "$artifacts"
  log="$artifacts/fuzz.log"

  dict=()
  [[ -f tests/fuzz/$t.dict ]] && dict=(-dict="tests/fuzz/$t.dict")

  rc=0
  "$build/tests/fuzz/$t" "$corpus" "${dict[@]}" -max_total_time="$seconds" -max_len=4096 -timeout=5 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/" >"$log" 2>&1 || rc=$?

  execs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -n1)
  if [[ -z $execs ]]; then # no final stats: the last progress line
    execs=$(sed -n 's/^#\([0-9][0-9]*\).*/\1/p' "$log" | tail -n1)
  fi
  if ((rc == 0)); then
    echo "fuzz: $t: ${execs:-0} executions in ${seconds}s, no crash"
  else
    failed=1
    repro=$(find "$artifacts" -maxdepth 1 -type f ! -name fuzz.log | head -n1)
    echo "fuzz: $t: FAILED (exit $rc) after ${execs:-?} executions; reproducer: ${repro:-none}; log: $log"
    # The sanitizer / libFuzzer report, for the CI log.
    grep -n -m1 -E '^==[0-9]+==|ERROR: libFuzzer|runtime error|deadly signal' "$log" >/dev/null &&
      sed -n "$(grep -n -m1 -E '^==[0-9]+==|ERROR: libFuzzer|runtime error|deadly signal' "$log" | cut -d: -f1),+40p" "$log" >&2
  fi
done
exit "$failed"
