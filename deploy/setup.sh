#!/usr/bin/env bash
# Installs, idempotently and from Debian 12 packages only, everything that the
# build, the tests, the benchmarks and the lab need. Run as root.
set -euo pipefail

packages=(
  # build
  build-essential g++ cmake make pkg-config clang clang-format libclang-rt-14-dev
  libevent-dev libnl-3-dev libnl-route-3-dev libssl-dev libyaml-cpp-dev catch2
  # tests, lab and real peers
  iproute2 iputils-ping curl python3 procps psmisc tmux
  haproxy keepalived nginx-light wrk hatop
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Debian's haproxy/keepalived/nginx packages start their services on install;
  # the project runs its own instances, so keep the packaged ones stopped.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
  rm -f /usr/sbin/policy-rc.d
fi
echo "setup: all ${#packages[@]} packages present"
