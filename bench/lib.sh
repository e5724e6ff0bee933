# Shared by the bench scripts (sourced): a temp dir and a pid list that are
# cleaned up on exit (every process stopped by its pid), and port helpers.
# Everything listens on 127.0.0.1 only. Set BENCH_NAME before sourcing.

# Each proxy needs two fds per connection plus its own.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

tmp=$(mktemp -d "/tmp/${BENCH_NAME:-bench}.XXXXXX")
declare -a pids=()

cleanup() {
  local p
  for p in "${pids[@]}"; do
    kill -TERM "$p" 2>/dev/null || true
  done
  for p in "${pids[@]}"; do
    for _ in $(seq 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

listening() { # port -> success if something listens on 127.0.0.1:port
  python3 - "$1" <<'EOF'
import socket, sys
s = socket.socket(); s.settimeout(0.2)
sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 1)
EOF
}

wait_listening() { # port pid -> waits up to 5 s; fails if pid died
  local i
  for i in $(seq 50); do
    kill -0 "$2" 2>/dev/null || return 1
    listening "$1" && return 0
    sleep 0.1
  done
  return 1
}
