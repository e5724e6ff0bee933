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

# nginx serving files of 'x' bytes: start_nginx NAME:SIZE... (e.g. 1k.bin:1024).
# Sets NGINX_PORT and NGINX_PID; the process is stopped on exit.
start_nginx() {
  local spec
  NGINX_PORT=$(free_port)
  mkdir -p "$tmp/www" "$tmp/nginx"
  for spec in "$@"; do
    head -c "${spec#*:}" /dev/zero | tr '\0' 'x' >"$tmp/www/${spec%%:*}"
  done
  cat >"$tmp/nginx.conf" <<EOF
worker_processes 1;
daemon off;
master_process off;
pid $tmp/nginx.pid;
error_log $tmp/nginx/error.log warn;
events { worker_connections 8192; }
http {
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path $tmp/nginx/body;
    proxy_temp_path $tmp/nginx/proxy;
    fastcgi_temp_path $tmp/nginx/fastcgi;
    uwsgi_temp_path $tmp/nginx/uwsgi;
    scgi_temp_path $tmp/nginx/scgi;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        root $tmp/www;
    }
}
EOF
  "$NGINX" -e "$tmp/nginx/error.log" -p "$tmp/nginx" -c "$tmp/nginx.conf" >"$tmp/nginx.out" 2>&1 &
  NGINX_PID=$!
  pids+=("$NGINX_PID")
  wait_listening "$NGINX_PORT" "$NGINX_PID" || {
    echo "$BENCH_NAME: nginx did not start:"
    cat "$tmp/nginx.out" "$tmp/nginx/error.log"
    exit 1
  } >&2
}

# A proxy on a free port with the caller's proxy_config PORT as its file:
# start_proxy NAME BINARY. Sets PORT[NAME] and PID[NAME].
declare -A PORT PID
start_proxy() {
  local name=$1 bin=$2 port
  port=$(free_port)
  proxy_config "$port" >"$tmp/$name.cfg"
  "$bin" -db -f "$tmp/$name.cfg" >"$tmp/$name.out" 2>&1 &
  PID[$name]=$!
  pids+=("${PID[$name]}")
  if ! wait_listening "$port" "${PID[$name]}"; then
    echo "$BENCH_NAME: $name did not start; its output:" >&2
    cat "$tmp/$name.out" >&2
    return 1
  fi
  PORT[$name]=$port
}
