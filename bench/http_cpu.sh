#!/usr/bin/env bash
# HTTP-mode cost per request, proxyd vs HAProxy, measured in ONE run: CPU
# time and system calls the proxy process spends per request. Unlike
# requests/s these figures hardly depend on what else runs on the machine,
# so they compare the two proxies on a shared, busy box.
#
#   bench/http_cpu.sh
#
# The four scenarios of bench/http_bench.sh (ka-1k, ka-64k, close-1k,
# close-64k: keep-alive or `Connection: close`, 1 KiB or 64 KiB body), wrk
# -t2 -c50 through each proxy to one nginx. Per scenario and proxy:
#   CPU-us/req    (utime+stime of the proxy process, all threads, from
#                 /proc/PID/stat, over one wrk run of $DURATION) / requests
#   syscalls/req  system calls of the proxy process (all threads) over a
#                 second, shorter run (`strace -c -f -p PID` for
#                 $TRACE_DURATION) / requests of that run; the busiest calls
#                 are listed per request below the table.
# strace slows the proxy a lot while it is attached (so the traced run is
# not used for the CPU figure, and calls that depend on timing, epoll_wait
# above all, are fewer than at full speed). With SYSCOUNT=perf (when `perf
# stat` can read the syscall tracepoints) the counts come from the kernel's
# counters instead, at full speed; the breakdown then covers the calls a
# proxy makes (PERF_CALLS).
#
# Environment (all optional):
#   PROXYD          proxyd binary (default: $BUILD/proxyd/proxyd, BUILD=$SRC/build)
#   HAPROXY         haproxy binary (default: /usr/sbin/haproxy)
#   NGINX           nginx binary (default: /usr/sbin/nginx)
#   DURATION        wrk duration of the CPU run (default: 5s)
#   TRACE_DURATION  wrk duration of the traced run (default: 2s)
#   SYSCOUNT        strace (default) or perf
#   SCENARIOS       subset, e.g. "ka-1k close-1k" (default: all four)
#   NBTHREAD        when set, `nbthread N` in the global section of both
#   RESULTS         markdown file to append the table to (default: none)
#   NOTE            a line printed with the appended table (which build...)
#
# Everything listens on 127.0.0.1 only. Every process is started by this
# script, remembered by pid and stopped by that pid on exit.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$SRC/build}
PROXYD=${PROXYD:-$BUILD/proxyd/proxyd}
HAPROXY=${HAPROXY:-/usr/sbin/haproxy}
NGINX=${NGINX:-/usr/sbin/nginx}
DURATION=${DURATION:-5s}
TRACE_DURATION=${TRACE_DURATION:-2s}
SYSCOUNT=${SYSCOUNT:-strace}
PERF_CALLS=${PERF_CALLS:-"recvfrom sendto sendmsg epoll_wait epoll_ctl timerfd_settime accept4 close connect socket setsockopt getsockopt getsockname shutdown fcntl clock_gettime"}
RESULTS=${RESULTS:-}
NOTE=${NOTE:-}
NBTHREAD=${NBTHREAD:-}
read -r -a scenarios <<<"${SCENARIOS:-ka-1k ka-64k close-1k close-64k}"

for tool in wrk python3 "$NGINX" "$HAPROXY" "$PROXYD" "$SYSCOUNT"; do
  command -v "$tool" >/dev/null || { echo "http_cpu: $tool not found" >&2; exit 2; }
done

BENCH_NAME=http_cpu
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

# --- nginx: 1 KiB and 64 KiB bodies -----------------------------------------
start_nginx 1k.bin:1024 64k.bin:65536

# --- the proxies: the same configuration as bench/http_bench.sh ---------------
proxy_config() { # port
  cat <<EOF
global
    maxconn 8192
${NBTHREAD:+    nbthread $NBTHREAD}

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

targets=(haproxy proxyd)
start_proxy haproxy "$HAPROXY"
start_proxy proxyd "$PROXYD"

# Sanity: both proxies serve both bodies with the right size.
for t in "${targets[@]}"; do
  for f in 1k 64k; do
    got=$(python3 - "${PORT[$t]}" "$f" <<'EOF'
import sys, urllib.request
with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/{sys.argv[2]}.bin", timeout=5) as r:
    print(r.status, len(r.read()))
EOF
    ) || got="error"
    want="200 $([[ $f == 1k ]] && echo 1024 || echo 65536)"
    [[ $got == "$want" ]] || { echo "http_cpu: $t /$f.bin answered '$got', expected '$want'" >&2; exit 1; }
  done
done

declare -A SC_FILE SC_HDR SC_DESC
SC_FILE[ka-1k]=1k.bin;     SC_HDR[ka-1k]="";                    SC_DESC[ka-1k]="keep-alive, 1 KiB"
SC_FILE[ka-64k]=64k.bin;   SC_HDR[ka-64k]="";                   SC_DESC[ka-64k]="keep-alive, 64 KiB"
SC_FILE[close-1k]=1k.bin;  SC_HDR[close-1k]="Connection: close"; SC_DESC[close-1k]="conn/request, 1 KiB"
SC_FILE[close-64k]=64k.bin; SC_HDR[close-64k]="Connection: close"; SC_DESC[close-64k]="conn/request, 64 KiB"

CLK_TCK=$(getconf CLK_TCK)
cpu_ticks() { # pid -> utime+stime of the whole process (all threads), in ticks
  # Fields after the ")" that ends the command name: utime is the 12th, stime the 13th.
  sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

run_wrk() { # target scenario duration -> prints the request count
  local t=$1 s=$2 d=$3 out="$tmp/wrk.$1.$2.out"
  local args=(-t2 -c50 -d"$d")
  [[ -n ${SC_HDR[$s]} ]] && args+=(-H "${SC_HDR[$s]}")
  wrk "${args[@]}" "http://127.0.0.1:${PORT[$t]}/${SC_FILE[$s]}" >"$out" 2>&1 || true
  local n errs
  n=$(awk '/requests in/ {print $1}' "$out")
  errs=$(grep -E "Non-2xx|Socket errors" "$out" | tr -s ' ' | paste -sd';' || true)
  [[ -n $n && $n -gt 0 ]] || { echo "http_cpu: wrk failed on $t ($s):" >&2; cat "$out" >&2; exit 1; }
  kill -0 "${PID[$t]}" 2>/dev/null || { echo "http_cpu: $t died during $s:" >&2; cat "$tmp/$t.out" >&2; exit 1; }
  [[ -n $errs ]] && echo "http_cpu: $t $s: $errs" >&2
  echo "$n"
}

# The traced run: syscall count over the run, and (strace) the busiest calls.
trace_run() { # target scenario -> prints "requests calls"; leaves $tmp/trace.T.S
  local t=$1 s=$2 n calls tpid out="$tmp/trace.$1.$2"
  if [[ $SYSCOUNT == perf ]]; then
    local ev=raw_syscalls:sys_enter c
    for c in $PERF_CALLS; do ev+=",syscalls:sys_enter_$c"; done
    perf stat -x, -e "$ev" -p "${PID[$t]}" -o "$out" &
  else
    strace -c -f -q -p "${PID[$t]}" -o "$out" &
  fi
  tpid=$!
  pids+=("$tpid")
  sleep 0.5 # attached before the load starts
  n=$(run_wrk "$t" "$s" "$TRACE_DURATION")
  kill -INT "$tpid" 2>/dev/null || true
  wait "$tpid" 2>/dev/null || true
  if [[ $SYSCOUNT == perf ]]; then
    calls=$(awk -F, '/raw_syscalls:sys_enter/ {print $1}' "$out")
  else
    calls=$(awk '$NF == "total" {print ($4 ~ /^[0-9]+$/) ? $4 : $3}' "$out")
  fi
  echo "$n ${calls:-0}"
}

declare -A CPU SYS
breakdown=""
for s in "${scenarios[@]}"; do
  for t in "${targets[@]}"; do
    run_wrk "$t" "$s" 1s >/dev/null # warm-up: connections, buffers, pools
    before=$(cpu_ticks "${PID[$t]}")
    n=$(run_wrk "$t" "$s" "$DURATION")
    after=$(cpu_ticks "${PID[$t]}")
    CPU[$s,$t]=$(awk -v a="$after" -v b="$before" -v n="$n" -v hz="$CLK_TCK" \
                     'BEGIN { printf "%.2f", (a - b) * 1e6 / hz / n }')
    read -r tn calls < <(trace_run "$t" "$s")
    SYS[$s,$t]=$(awk -v c="$calls" -v n="$tn" 'BEGIN { printf "%.2f", c / n }')
    printf '%-9s %-8s %9d req %8s CPU-us/req   %8s syscalls/req (%d req traced)\n' \
      "$s" "$t" "$n" "${CPU[$s,$t]}" "${SYS[$s,$t]}" "$tn"
    if [[ $SYSCOUNT == strace ]]; then
      top=$(awk -v n="$tn" '
        $1 ~ /^[0-9.]+$/ && $NF != "total" { printf "%s %.2f, ", $NF, $4 / n }' \
        "$tmp/trace.$t.$s" | sed 's/, $//')
    else
      top=$(awk -F, -v n="$tn" '
        $3 ~ /^syscalls:sys_enter_/ && $1 / n >= 0.005 {
          sub("syscalls:sys_enter_", "", $3); printf "%s %.2f, ", $3, $1 / n }' \
        "$tmp/trace.$t.$s" | sed 's/, $//')
    fi
    breakdown+="- $s $t: $top"$'\n'
  done
done

# --- report ---------------------------------------------------------------
now=$(date '+%Y-%m-%d %H:%M:%S %Z')
hap_ver=$("$HAPROXY" -v 2>/dev/null | awk 'NR == 1 {print $3}')
table=$(
  echo "| scenario | haproxy CPU-us/req | proxyd CPU-us/req | proxyd/haproxy CPU | haproxy syscalls/req | proxyd syscalls/req | proxyd/haproxy syscalls |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  for s in "${scenarios[@]}"; do
    awk -v d="${SC_DESC[$s]}" -v hc="${CPU[$s,haproxy]}" -v pc="${CPU[$s,proxyd]}" \
        -v hs="${SYS[$s,haproxy]}" -v ps="${SYS[$s,proxyd]}" \
        'BEGIN { printf "| %s | %s | %s | %.2f | %s | %s | %.2f |\n", d, hc, pc, pc / hc, hs, ps, ps / hs }'
  done
)
meta="$(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), haproxy $hap_ver (default nbthread${NBTHREAD:+, nbthread $NBTHREAD}), wrk -t2 -c50, CPU over $DURATION, syscalls ($SYSCOUNT) over $TRACE_DURATION"
echo
echo "$table"
echo "($meta)"
if [[ -n $breakdown ]]; then
  echo
  echo "System calls per request, by call:"
  printf '%s' "$breakdown"
fi
if [[ -n $RESULTS ]]; then
  {
    echo
    echo "### $now (HTTP mode, cost per request: bench/http_cpu.sh)"
    echo
    echo "$meta"
    [[ -n $NOTE ]] && { echo; echo "$NOTE"; }
    echo
    echo "$table"
    if [[ -n $breakdown ]]; then
      echo
      echo "System calls per request, by call ($SYSCOUNT):"
      echo
      printf '%s' "$breakdown"
    fi
  } >>"$RESULTS"
  echo "appended to $RESULTS"
fi
