#!/usr/bin/env bash
# Runs proxyd (conf/tcp-basic.cfg: 127.0.0.1:8000 -> 127.0.0.1:9001, :9002)
# over two tiny HTTP backends that answer their own name. Ctrl-C stops all
# three (by pid).
set -euo pipefail
cd "$(dirname "$0")/.."
PROXYD=${1:-build/proxyd/proxyd}
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

for n in 1 2; do
  mkdir -p "$work/web$n"
  echo "hello from web$n (127.0.0.1:900$n)" > "$work/web$n/index.html"
  python3 -m http.server "900$n" --bind 127.0.0.1 --directory "$work/web$n" >/dev/null 2>&1 &
  pids+=($!)
done
"$PROXYD" -db -f conf/tcp-basic.cfg &
pids+=($!)
sleep 0.5
cat <<MSG

proxyd is listening on 127.0.0.1:8000 (tcp mode, roundrobin over web1 and web2).
Try it:
    for i in 1 2 3 4; do curl -s http://127.0.0.1:8000/; done
Stop a backend to see the health check take it out of rotation:
    kill ${pids[0]}     # web1
Ctrl-C stops everything.
MSG
wait "${pids[2]}"
