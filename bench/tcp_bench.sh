#!/usr/bin/env bash
# TCP-mode benchmark: nginx direct, HAProxy (mode tcp) in front of it, and
# proxyd with the same configuration in front of it, measured in ONE run.
#
#   bench/tcp_bench.sh
#
# Environment (all optional):
#   PROXYD      proxyd binary (default: $BUILD/proxyd/proxyd, BUILD=$SRC/build)
#   HAPROXY     haproxy binary (default: /usr/sbin/haproxy)
#   DURATION    wrk duration per run (default: 10s)
#   ROUNDS      rounds; each round runs every target once, alternating (default: 2)
#   IDLE_CONNS  idle client connections for the memory measure (default: 1000)
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
DURATION=${DURATION:-10s}
ROUNDS=${ROUNDS:-2}
IDLE_CONNS=${IDLE_CONNS:-1000}
RESULTS=${RESULTS:-$SRC/docs/benchmarks.md}
WRK_ARGS=(-t2 -c50 -d"$DURATION" --latency)

for tool in wrk python3 "$NGINX" "$HAPROXY"; do
  command -v "$tool" >/dev/null || { echo "tcp_bench: $tool not found (deploy/setup.sh installs it)" >&2; exit 2; }
done

BENCH_NAME=tcp_bench
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# --- nginx: 1 KiB body ------------------------------------------------------
start_nginx index.html:1024

# --- the proxies: the same configuration, each on its own port ---------------
proxy_config() { # port
  cat <<EOF
global
    maxconn 8192

defaults
    mode tcp
    timeout connect 5s
    timeout client 60s
    timeout server 60s

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
  echo "tcp_bench: $proxyd_note" >&2
elif start_proxy proxyd "$PROXYD"; then
  targets+=(proxyd)
else
  proxyd_note="proxyd failed to start: skipped"
fi

# --- memory per idle connection (fresh processes, before any load) ----------
declare -A RSS0 RSS1
open_idle() { # port n readyfile -> opens n connections, holds them up to 60 s
  python3 - "$@" <<'EOF'
import socket, sys, time
port, n, ready = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
conns = []
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    conns.append(s)
open(ready, "w").write(str(len(conns)))
time.sleep(60)
EOF
}

for t in "${targets[@]}"; do
  [[ $t == nginx ]] && continue
  RSS0[$t]=$(rss_kib "${PID[$t]}")
  rm -f "$tmp/ready"
  open_idle "${PORT[$t]}" "$IDLE_CONNS" "$tmp/ready" &
  opener=$!
  pids+=("$opener")
  for _ in $(seq 100); do [[ -s $tmp/ready ]] && break; kill -0 "$opener" 2>/dev/null || break; sleep 0.1; done
  [[ -s $tmp/ready ]] || { echo "tcp_bench: could not open $IDLE_CONNS connections to $t" >&2; exit 1; }
  sleep 1 # let the proxy accept them all and connect to nginx
  RSS1[$t]=$(rss_kib "${PID[$t]}")
  kill -TERM "$opener" 2>/dev/null || true
  wait "$opener" 2>/dev/null || true
  sleep 1 # connections drain before the next measure
done

# --- throughput and latency, alternating targets -------------------------------
to_ms() { # wrk latency ("812.00us", "1.23ms", "1.02s") -> milliseconds
  awk -v v="$1" 'BEGIN {
    n = v + 0
    if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n = n; else if (v ~ /s$/) n *= 1000
    printf "%.3f", n }'
}

declare -A RPS P99
for round in $(seq "$ROUNDS"); do
  for t in "${targets[@]}"; do
    wrk "${WRK_ARGS[@]}" "http://127.0.0.1:${PORT[$t]}/index.html" >"$tmp/wrk.out" 2>&1 || true
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$tmp/wrk.out")
    p99=$(awk '$1 == "99%" {print $2}' "$tmp/wrk.out")
    errs=$(grep -E "Non-2xx|Socket errors" "$tmp/wrk.out" || true)
    [[ -n $rps && -n $p99 ]] || { echo "tcp_bench: wrk failed on $t:" >&2; cat "$tmp/wrk.out" >&2; exit 1; }
    p99=$(to_ms "$p99")
    printf 'round %d  %-8s %10s req/s  p99 %8s ms  %s\n' "$round" "$t" "$rps" "$p99" "$errs"
    RPS[$t]="${RPS[$t]:-} $rps"
    P99[$t]="${P99[$t]:-} $p99"
  done
done

mean() { awk '{ s = 0; for (i = 1; i <= NF; i++) s += $i; printf "%.1f", s / NF }' <<<"$1"; }
mean3() { awk '{ s = 0; for (i = 1; i <= NF; i++) s += $i; printf "%.3f", s / NF }' <<<"$1"; }

# --- report ---------------------------------------------------------------
now=$(date '+%Y-%m-%d %H:%M:%S %Z')
hap_ver=$("$HAPROXY" -v 2>/dev/null | head -1 | awk '{print $3}')
ngx_ver=$("$NGINX" -v 2>&1 | sed 's/.*nginx\///')
table=$(
  echo "| target | req/s (mean of $ROUNDS) | p99 ms (mean) | RSS idle KiB | RSS with $IDLE_CONNS idle conns KiB | KiB per conn |"
  echo "|---|---:|---:|---:|---:|---:|"
  for t in nginx haproxy proxyd; do
    if [[ " ${targets[*]} " != *" $t "* ]]; then
      echo "| $t (not run) | n/a | n/a | n/a | n/a | n/a |"
      continue
    fi
    if [[ $t == nginx ]]; then
      mem="| - | - | - |"
    else
      per=$(awk -v a="${RSS0[$t]}" -v b="${RSS1[$t]}" -v n="$IDLE_CONNS" 'BEGIN { printf "%.2f", (b - a) / n }')
      mem="| ${RSS0[$t]} | ${RSS1[$t]} | $per |"
    fi
    label="$t (tcp, in front of nginx)"
    [[ $t == nginx ]] && label="nginx (direct)"
    echo "| $label | $(mean "${RPS[$t]}") | $(mean3 "${P99[$t]}") $mem"
  done
)
if [[ " ${targets[*]} " == *" proxyd "* ]]; then
  ratio=$(awk -v p="$(mean "${RPS[proxyd]}")" -v h="$(mean "${RPS[haproxy]}")" \
              -v pl="$(mean3 "${P99[proxyd]}")" -v hl="$(mean3 "${P99[haproxy]}")" \
              'BEGIN { printf "proxyd/haproxy: req/s %.2f, p99 %.2f", p / h, (hl > 0 ? pl / hl : 0) }')
else
  ratio="proxyd/haproxy: n/a ($proxyd_note)"
fi
meta="$(nproc) cores, $(uname -r), haproxy $hap_ver, nginx $ngx_ver, wrk ${WRK_ARGS[*]}, $ROUNDS rounds alternating"

echo
echo "$table"
echo "$ratio"
echo "($meta)"

if [[ ! -f $RESULTS ]]; then
  mkdir -p "$(dirname "$RESULTS")"
  cat >"$RESULTS" <<'EOF'
# Benchmarks

Results of `bench/tcp_bench.sh`, newest last. Each run appends a dated table.

## Method (TCP mode)

- One run measures all targets side by side on the same machine: nginx
  (nginx-light, one worker, `master_process off`) serving a 1 KiB static body
  on 127.0.0.1; HAProxy 2.6 in `mode tcp` in front of it; proxyd with the same
  configuration (only the bind port differs) in front of it.
- Throughput and latency: `wrk -t2 -c50 -d10s --latency` against each target,
  alternating targets, 2 rounds; the table shows the mean requests/s and the
  mean of the p99 latencies. wrk keeps its 50 connections alive, so this
  measures forwarding, not connection setup.
- Memory: on freshly started proxies (before any load), VmRSS idle, then
  VmRSS with 1000 idle client connections open through the proxy (each also
  holds a connection to nginx); (delta)/1000 is the cost per proxied
  connection. Only the main process's RSS is counted.
- Nothing is pinned: the machine has 2 cores shared by wrk, nginx and the
  proxy, so absolute numbers are low and noisy; compare ratios within a run.
EOF
fi
{
  echo
  echo "### $now"
  echo
  echo "$meta"
  echo
  echo "$table"
  echo
  echo "$ratio"
  [[ -n $proxyd_note ]] && echo && echo "Note: $proxyd_note"
} >>"$RESULTS"
echo "appended to $RESULTS"
