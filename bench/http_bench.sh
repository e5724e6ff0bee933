#!/usr/bin/env bash
# HTTP-mode benchmark: nginx direct, HAProxy (mode http) in front of it, and
# proxyd with the same configuration in front of it, measured in ONE run,
# in four scenarios:
#
#   ka-1k     keep-alive,              1 KiB body
#   ka-64k    keep-alive,             64 KiB body
#   close-1k  connection per request,  1 KiB body (wrk -H 'Connection: close')
#   close-64k connection per request, 64 KiB body
#
#   bench/http_bench.sh
#
# Environment (all optional):
#   PROXYD      proxyd binary (default: $BUILD/proxyd/proxyd, BUILD=$SRC/build)
#   HAPROXY     haproxy binary (default: /usr/sbin/haproxy)
#   NGINX       nginx binary (default: /usr/sbin/nginx)
#   DURATION    wrk duration per run (default: 8s)
#   ROUNDS      rounds; each round runs every scenario on every target,
#               alternating targets (default: 2)
#   RESULTS     markdown file the results are appended to (default: docs/benchmarks.md)
#
# Everything listens on 127.0.0.1 only. Every process is started by this
# script, remembered by pid and stopped by that pid on exit. Nothing is pinned
# to a CPU: wrk, nginx and the proxy share the machine's cores.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$SRC/build}
PROXYD=${PROXYD:-$BUILD/proxyd/proxyd}
HAPROXY=${HAPROXY:-/usr/sbin/haproxy}
NGINX=${NGINX:-/usr/sbin/nginx}
DURATION=${DURATION:-8s}
ROUNDS=${ROUNDS:-2}
RESULTS=${RESULTS:-$SRC/docs/benchmarks.md}
WRK_ARGS=(-t2 -c50 -d"$DURATION" --latency)

for tool in wrk python3 "$NGINX" "$HAPROXY"; do
  command -v "$tool" >/dev/null || { echo "http_bench: $tool not found (deploy/setup.sh installs it)" >&2; exit 2; }
done

BENCH_NAME=http_bench
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

# --- nginx: 1 KiB and 64 KiB bodies -----------------------------------------
start_nginx 1k.bin:1024 64k.bin:65536

# --- the proxies: the same configuration, each on its own port ---------------
proxy_config() { # port
  cat <<EOF
global
    maxconn 8192

defaults
    mode http
    option http-keep-alive
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout http-keep-alive 60s

frontend bench
    bind 127.0.0.1:$1
    default_backend web

backend web
    server nginx 127.0.0.1:$NGINX_PORT
EOF
}


targets=(nginx haproxy)
PORT[nginx]=$NGINX_PORT
PID[nginx]=$NGINX_PID
start_proxy haproxy "$HAPROXY" || exit 1
proxyd_note=""
if [[ ! -x "$PROXYD" ]]; then
  proxyd_note="proxyd not found at $PROXYD: skipped"
  echo "http_bench: $proxyd_note" >&2
elif start_proxy proxyd "$PROXYD"; then
  targets+=(proxyd)
else
  proxyd_note="proxyd failed to start: skipped"
fi

# Sanity: every target serves both bodies with the right size.
for t in "${targets[@]}"; do
  for f in 1k 64k; do
    got=$(python3 - "${PORT[$t]}" "$f" <<'EOF'
import sys, urllib.request
with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/{sys.argv[2]}.bin", timeout=5) as r:
    print(r.status, len(r.read()))
EOF
    ) || got="error"
    want="200 $([[ $f == 1k ]] && echo 1024 || echo 65536)"
    [[ $got == "$want" ]] || { echo "http_bench: $t /$f.bin answered '$got', expected '$want'" >&2; exit 1; }
  done
done

# --- throughput and latency: every scenario, alternating targets -------------
scenarios=(ka-1k ka-64k close-1k close-64k)
declare -A SC_FILE SC_HDR SC_DESC
SC_FILE[ka-1k]=1k.bin;     SC_HDR[ka-1k]="";                    SC_DESC[ka-1k]="keep-alive, 1 KiB"
SC_FILE[ka-64k]=64k.bin;   SC_HDR[ka-64k]="";                   SC_DESC[ka-64k]="keep-alive, 64 KiB"
SC_FILE[close-1k]=1k.bin;  SC_HDR[close-1k]="Connection: close"; SC_DESC[close-1k]="conn/request, 1 KiB"
SC_FILE[close-64k]=64k.bin; SC_HDR[close-64k]="Connection: close"; SC_DESC[close-64k]="conn/request, 64 KiB"

to_ms() { # wrk latency ("812.00us", "1.23ms", "1.02s") -> milliseconds
  awk -v v="$1" 'BEGIN {
    n = v + 0
    if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n = n; else if (v ~ /s$/) n *= 1000
    printf "%.3f", n }'
}

declare -A RPS P99 ERRS
for round in $(seq "$ROUNDS"); do
  for s in "${scenarios[@]}"; do
    for t in "${targets[@]}"; do
      args=("${WRK_ARGS[@]}")
      [[ -n ${SC_HDR[$s]} ]] && args+=(-H "${SC_HDR[$s]}")
      wrk "${args[@]}" "http://127.0.0.1:${PORT[$t]}/${SC_FILE[$s]}" >"$tmp/wrk.out" 2>&1 || true
      rps=$(awk '/^Requests\/sec:/ {print $2}' "$tmp/wrk.out")
      p99=$(awk '$1 == "99%" {print $2}' "$tmp/wrk.out")
      errs=$(grep -E "Non-2xx|Socket errors" "$tmp/wrk.out" | tr -s ' ' | paste -sd';' || true)
      [[ -n $rps && -n $p99 ]] || { echo "http_bench: wrk failed on $t ($s):" >&2; cat "$tmp/wrk.out" >&2; exit 1; }
      kill -0 "${PID[$t]}" 2>/dev/null || { echo "http_bench: $t died during $s:" >&2; cat "$tmp/$t.out" >&2 2>/dev/null; exit 1; }
      p99=$(to_ms "$p99")
      printf 'round %d  %-9s %-8s %10s req/s  p99 %8s ms  %s\n' "$round" "$s" "$t" "$rps" "$p99" "$errs"
      RPS[$s,$t]="${RPS[$s,$t]:-} $rps"
      P99[$s,$t]="${P99[$s,$t]:-} $p99"
      [[ -n $errs ]] && ERRS[$s,$t]="${ERRS[$s,$t]:-}r$round: $errs "
    done
  done
done

mean() { awk '{ s = 0; for (i = 1; i <= NF; i++) s += $i; printf "%.1f", s / NF }' <<<"$1"; }
mean3() { awk '{ s = 0; for (i = 1; i <= NF; i++) s += $i; printf "%.3f", s / NF }' <<<"$1"; }

# --- report ---------------------------------------------------------------
now=$(date '+%Y-%m-%d %H:%M:%S %Z')
hap_ver=$("$HAPROXY" -v 2>/dev/null | head -1 | awk '{print $3}')
ngx_ver=$("$NGINX" -v 2>&1 | sed 's/.*nginx\///')
have_proxyd=0
[[ " ${targets[*]} " == *" proxyd "* ]] && have_proxyd=1
table=$(
  echo "| scenario | nginx req/s | nginx p99 ms | haproxy req/s | haproxy p99 ms | proxyd req/s | proxyd p99 ms | proxyd/haproxy req/s | proxyd/haproxy p99 |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  for s in "${scenarios[@]}"; do
    row="| ${SC_DESC[$s]} |"
    for t in nginx haproxy proxyd; do
      if [[ " ${targets[*]} " == *" $t "* ]]; then
        row+=" $(mean "${RPS[$s,$t]}") | $(mean3 "${P99[$s,$t]}") |"
      else
        row+=" n/a | n/a |"
      fi
    done
    if (( have_proxyd )); then
      row+=$(awk -v p="$(mean "${RPS[$s,proxyd]}")" -v h="$(mean "${RPS[$s,haproxy]}")" \
                 -v pl="$(mean3 "${P99[$s,proxyd]}")" -v hl="$(mean3 "${P99[$s,haproxy]}")" \
                 'BEGIN { printf " %.2f | %.2f |", p / h, (hl > 0 ? pl / hl : 0) }')
    else
      row+=" n/a | n/a |"
    fi
    echo "$row"
  done
)
errors=""
for s in "${scenarios[@]}"; do
  for t in "${targets[@]}"; do
    [[ -n ${ERRS[$s,$t]:-} ]] && errors+="- $s $t: ${ERRS[$s,$t]}"$'\n'
  done
done
meta="$(nproc) cores, $(uname -r), haproxy $hap_ver (mode http, default nbthread), nginx $ngx_ver, wrk ${WRK_ARGS[*]}, $ROUNDS rounds alternating"

echo
echo "$table"
echo "($meta)"
[[ -n $errors ]] && { echo "wrk errors:"; printf '%s' "$errors"; }

if [[ ! -f $RESULTS ]]; then
  mkdir -p "$(dirname "$RESULTS")"
  printf '# Benchmarks\n\nResults of the scripts in `bench/`, newest last. Each run appends a dated table.\n' >"$RESULTS"
fi
if ! grep -q '^## Method (HTTP mode)' "$RESULTS"; then
  cat >>"$RESULTS" <<'EOF'

## Method (HTTP mode)

Results of `bench/http_bench.sh`.

- One run measures all targets side by side on the same machine: nginx
  (nginx-light, one worker, `master_process off`) serving a 1 KiB and a
  64 KiB static file on 127.0.0.1; HAProxy 2.6 in `mode http` (`option
  http-keep-alive`, otherwise its defaults, so default nbthread) in front of
  it; proxyd with the same configuration (only the bind port differs) in
  front of it.
- Four scenarios, each `wrk -t2 -c50 -d8s --latency`: keep-alive with the
  1 KiB and the 64 KiB file, and connection-per-request (wrk sends
  `Connection: close`, so every request opens a new client connection) with
  the same two files. 2 rounds; within a round each scenario runs on every
  target in turn (nginx, haproxy, proxyd). The table shows the mean
  requests/s and the mean of the p99 latencies, and the proxyd/haproxy ratios
  (req/s above 1 and p99 below 1 favour proxyd).
- Before the load, each target is checked to answer 200 with the right body
  length for both files. wrk errors (non-2xx, socket errors), if any, are
  listed under the table.
- Nothing is pinned: 2 cores shared by wrk, nginx and the proxy, so absolute
  numbers are low and noisy; compare ratios within a run.
EOF
fi
{
  echo
  echo "### $now (HTTP mode)"
  echo
  echo "$meta"
  echo
  echo "$table"
  if [[ -n $errors ]]; then echo; echo "wrk errors:"; echo; printf '%s' "$errors"; fi
  [[ -n $proxyd_note ]] && echo && echo "Note: $proxyd_note"
  true
} >>"$RESULTS"
echo "appended to $RESULTS"
