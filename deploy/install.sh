#!/usr/bin/env bash
# Installs proxyd and vrrpd from a build tree, with their systemd units, the
# sysctl that lets proxyd bind the VIP, and (only when absent) starting
# configs. See docs/operations.md.
#
#   sudo deploy/install.sh                 # build/ of this tree, ROLE=master
#   sudo ROLE=backup deploy/install.sh     # the BACKUP host's keepalived.conf
#   DESTDIR=/tmp/stage deploy/install.sh   # stage into a directory (no root
#                                          # needed; nothing is reloaded)
#
# Variables: BUILD (default: build/ of this tree), ROLE (master|backup, the
# keepalived.conf installed when none exists), DESTDIR (a staging root),
# PREFIX (default /usr/local). Installs:
#   PREFIX/sbin/proxyd, PREFIX/sbin/vrrpd
#   /etc/proxyd/haproxy.cfg, /etc/vrrpd/keepalived.conf   (kept if present)
#   /etc/systemd/system/proxyd.service, vrrpd.service
#   /etc/sysctl.d/90-proxyd-vip.conf
#   PREFIX/share/doc/proxyd/operations.md, failover.md
# Without DESTDIR it then reloads systemd (if running) and applies the
# sysctl file; it neither enables nor starts the services.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$SRC/build}
ROLE=${ROLE:-master}
DESTDIR=${DESTDIR:-}
PREFIX=${PREFIX:-/usr/local}

case "$ROLE" in
  master|backup) ;;
  *) echo "install: ROLE must be master or backup, not '$ROLE'" >&2; exit 2 ;;
esac
for b in "$BUILD/proxyd/proxyd" "$BUILD/vrrpd/vrrpd"; do
  if [[ ! -x "$b" ]]; then
    echo "install: $b is not built (cmake --build build --target proxyd vrrpd)" >&2
    exit 1
  fi
done
if [[ -z "$DESTDIR" && $(id -u) -ne 0 ]]; then
  echo "install: run as root (or set DESTDIR to stage the files)" >&2
  exit 1
fi

# A config is installed only when none is there: never overwrite the
# operator's edits.
config() { # SOURCE TARGET
  if [[ -e "$2" ]]; then
    echo "install: kept $2 (exists)"
  else
    install -D -m 0644 "$1" "$2"
    echo "install: $2 (from $(basename "$1"); edit it)"
  fi
}

install -D -m 0755 "$BUILD/proxyd/proxyd" "$DESTDIR$PREFIX/sbin/proxyd"
install -D -m 0755 "$BUILD/vrrpd/vrrpd" "$DESTDIR$PREFIX/sbin/vrrpd"
config "$SRC/deploy/etc/haproxy.cfg" "$DESTDIR/etc/proxyd/haproxy.cfg"
config "$SRC/deploy/etc/keepalived-$ROLE.conf" "$DESTDIR/etc/vrrpd/keepalived.conf"

units=(proxyd.service vrrpd.service)
for u in "${units[@]}"; do
  # The units name PREFIX/sbin; rewrite it for another PREFIX.
  install -d -m 0755 "$DESTDIR/etc/systemd/system"
  sed "s#/usr/local/sbin/#$PREFIX/sbin/#g; s#/usr/local/share/#$PREFIX/share/#g" \
    "$SRC/deploy/systemd/$u" > "$DESTDIR/etc/systemd/system/$u"
  chmod 0644 "$DESTDIR/etc/systemd/system/$u"
done
install -D -m 0644 "$SRC/deploy/sysctl/90-proxyd-vip.conf" "$DESTDIR/etc/sysctl.d/90-proxyd-vip.conf"
for d in operations.md failover.md; do
  install -D -m 0644 "$SRC/docs/$d" "$DESTDIR$PREFIX/share/doc/proxyd/$d"
done
echo "install: binaries in $DESTDIR$PREFIX/sbin, units in $DESTDIR/etc/systemd/system"

if [[ -z "$DESTDIR" ]]; then
  sysctl -q -p /etc/sysctl.d/90-proxyd-vip.conf
  if [[ -d /run/systemd/system ]]; then
    systemctl daemon-reload
  fi
  cat <<MSG
install: done. Next (docs/operations.md): edit /etc/proxyd/haproxy.cfg and
/etc/vrrpd/keepalived.conf, check them (proxyd -c -f ..., vrrpd -t -f ...),
then: systemctl enable --now proxyd vrrpd
MSG
fi
