#!/usr/bin/env python3
"""deploy/install.sh, the systemd units and the sysctl file (docs/operations.md).

- install.sh into a DESTDIR: every file where docs/operations.md says, the
  binaries identical to the build's, configs kept when present, ROLE picks
  the MASTER's or the BACKUP's keepalived.conf;
- the installed configs pass `proxyd -c` and `vrrpd -t`;
- `systemd-analyze verify` on the installed units, with no warning (skipped
  when systemd-analyze is missing);
- the proxyd unit's ExecStartPre/ExecStart command lines, run as written
  (Type=forking): the check passes, `proxyd -D` returns once the daemon
  serves, and the pid file names the running daemon;
- the sysctl file applied in a fresh network namespace sets
  net.ipv4.ip_nonlocal_bind (root only; skipped otherwise).

Not for HAProxy (skipped in a reference run: this is proxyd's packaging)."""

import contextlib
import filecmp
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import PROXYD, Skip, check, free_port, is_haproxy, pid_alive, run_tests, wait_until  # noqa: E402

SRC = os.environ.get("SRC") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
VRRPD = os.environ.get("VRRPD") or os.path.join(SRC, "build", "vrrpd", "vrrpd")
INSTALL = os.path.join(SRC, "deploy", "install.sh")
SYSCTL = os.path.join(SRC, "deploy", "sysctl", "90-proxyd-vip.conf")


@contextlib.contextmanager
def staged(role: str | None = None, keep: str | None = None):
    """install.sh into a fresh DESTDIR (the build given by PROXYD/VRRPD);
    yields (destdir, install.sh's output)."""
    if is_haproxy():
        raise Skip("proxyd's packaging")
    build = tempfile.mkdtemp(prefix="proxyd-build-")
    dest = keep or tempfile.mkdtemp(prefix="proxyd-dest-")
    try:
        # install.sh takes a build tree: BUILD/proxyd/proxyd, BUILD/vrrpd/vrrpd.
        for name, path in (("proxyd", PROXYD), ("vrrpd", VRRPD)):
            os.makedirs(os.path.join(build, name))
            os.symlink(os.path.abspath(path), os.path.join(build, name, name))
        env = dict(os.environ, DESTDIR=dest, BUILD=build)
        if role:
            env["ROLE"] = role
        r = subprocess.run(["bash", INSTALL], env=env, capture_output=True, text=True, timeout=30)
        check(r.returncode == 0, f"install.sh failed ({r.returncode}):\n{r.stdout}{r.stderr}")
        yield dest, r.stdout
    finally:
        shutil.rmtree(build, ignore_errors=True)
        if keep is None:
            shutil.rmtree(dest, ignore_errors=True)


def mode(path: str) -> int:
    return os.stat(path).st_mode & 0o7777


def test_install_puts_every_file_in_place():
    with staged() as (d, _):
        sbin = os.path.join(d, "usr/local/sbin")
        for name, built in (("proxyd", PROXYD), ("vrrpd", VRRPD)):
            p = os.path.join(sbin, name)
            check(os.path.isfile(p) and mode(p) == 0o755, f"{p}: missing or not 0755")
            check(filecmp.cmp(p, built, shallow=False), f"{p} differs from the build's {built}")
        expect = {
            "etc/proxyd/haproxy.cfg": "deploy/etc/haproxy.cfg",
            "etc/vrrpd/keepalived.conf": "deploy/etc/keepalived-master.conf",
            "etc/sysctl.d/90-proxyd-vip.conf": "deploy/sysctl/90-proxyd-vip.conf",
            "usr/local/share/doc/proxyd/operations.md": "docs/operations.md",
            "usr/local/share/doc/proxyd/failover.md": "docs/failover.md",
            "etc/systemd/system/proxyd.service": "deploy/systemd/proxyd.service",
            "etc/systemd/system/vrrpd.service": "deploy/systemd/vrrpd.service",
        }
        for rel, src in expect.items():
            p = os.path.join(d, rel)
            check(os.path.isfile(p) and mode(p) == 0o644, f"{rel}: missing or not 0644")
            check(filecmp.cmp(p, os.path.join(SRC, src), shallow=False), f"{rel} differs from {src}")
        # Nothing else: the listing in install.sh's header is complete.
        files = sorted(os.path.relpath(os.path.join(r, f), d) for r, _, fs in os.walk(d) for f in fs)
        check(files == sorted(list(expect) + ["usr/local/sbin/proxyd", "usr/local/sbin/vrrpd"]),
              f"unexpected files: {files}")


def test_install_keeps_existing_configs_and_picks_the_role():
    with staged(role="backup") as (d, _):
        conf = os.path.join(d, "etc/vrrpd/keepalived.conf")
        text = open(conf).read()
        check(re.search(r"^\s*state BACKUP$", text, re.M) and re.search(r"^\s*priority 99$", text, re.M),
              "ROLE=backup did not install the BACKUP's keepalived.conf")
        cfg = os.path.join(d, "etc/proxyd/haproxy.cfg")
        with open(cfg, "a") as f:
            f.write("# operator's edit\n")
        with open(conf, "a") as f:
            f.write("# operator's edit\n")
        with staged(role="master", keep=d) as (_, out):
            check(open(cfg).read().endswith("# operator's edit\n"), "install.sh overwrote haproxy.cfg")
            check(open(conf).read().endswith("# operator's edit\n"), "install.sh overwrote keepalived.conf")
            check("kept" in out, f"install.sh did not say it kept the configs:\n{out}")
    empty = tempfile.mkdtemp(prefix="proxyd-dest-")
    try:
        env = dict(os.environ, ROLE="slave", DESTDIR=empty)
        r = subprocess.run(["bash", INSTALL], env=env, capture_output=True, text=True, timeout=30)
        check(r.returncode != 0 and "ROLE" in r.stderr, f"ROLE=slave accepted: {r.returncode} {r.stderr}")
        check(not os.listdir(empty), "ROLE=slave still installed files")
    finally:
        shutil.rmtree(empty, ignore_errors=True)


def test_installed_configs_are_valid():
    with staged() as (d, _):
        r = subprocess.run([PROXYD, "-c", "-f", os.path.join(d, "etc/proxyd/haproxy.cfg")],
                           capture_output=True, text=True, timeout=10)
        check(r.returncode == 0, f"proxyd -c: {r.returncode} {r.stdout}{r.stderr}")
        for role in ("master", "backup"):
            r = subprocess.run([VRRPD, "-t", "-f", os.path.join(SRC, f"deploy/etc/keepalived-{role}.conf")],
                               capture_output=True, text=True, timeout=10)
            check(r.returncode == 0, f"vrrpd -t ({role}): {r.returncode} {r.stdout}{r.stderr}")


def test_units_pass_systemd_analyze_verify():
    sa = shutil.which("systemd-analyze")
    if not sa:
        raise Skip("systemd-analyze is not installed")
    with staged() as (d, _):
        # verify checks that the commands exist: point them at the staged ones.
        vdir = os.path.join(d, "verify")
        os.mkdir(vdir)
        units = []
        for u in ("proxyd.service", "vrrpd.service"):
            text = open(os.path.join(d, "etc/systemd/system", u)).read()
            units.append(os.path.join(vdir, u))
            with open(units[-1], "w") as f:
                f.write(text.replace("/usr/local/sbin/", os.path.join(d, "usr/local/sbin") + "/"))
        r = subprocess.run([sa, "verify", *units], capture_output=True, text=True, timeout=60)
        # Unknown keys or bad values are only warnings: none is allowed.
        check(r.returncode == 0 and not r.stderr.strip() and not r.stdout.strip(),
              f"systemd-analyze verify: {r.returncode}\n{r.stdout}{r.stderr}")


def unit_commands(path: str, key: str, env: dict[str, str]) -> list[list[str]]:
    """The unit's KEY= command lines, ${VAR} expanded from env, as argv."""
    out = []
    for line in open(path):
        if line.startswith(key + "="):
            cmd = line.split("=", 1)[1].strip()
            cmd = re.sub(r"\$\{(\w+)\}", lambda m: env[m.group(1)], cmd)
            out.append(shlex.split(cmd))
    return out


def test_proxyd_unit_commands_fork_and_write_the_pidfile():
    with staged() as (d, _):
        unit = os.path.join(d, "etc/systemd/system/proxyd.service")
        text = open(unit).read()
        check(re.search(r"^Type=forking$", text, re.M), "proxyd.service is not Type=forking")
        m = re.search(r"^Environment=CONFIG=(\S+) PIDFILE=(\S+)$", text, re.M)
        check(m and re.search(rf"^PIDFile={re.escape(m.group(2))}$", text, re.M),
              "PIDFile= and the -p file differ")
        # The unit's command lines on a loopback config in a temp dir.
        tmp = tempfile.mkdtemp(prefix="proxyd-unit-")
        port = free_port()
        cfg = os.path.join(tmp, "haproxy.cfg")
        with open(cfg, "w") as f:
            f.write(f"global\n    stats socket {tmp}/admin.sock level operator\n"
                    "defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n"
                    "    timeout server 5s\nfrontend web\n"
                    f"    bind 127.0.0.1:{port}\n    default_backend app\n"
                    f"backend app\n    server s1 127.0.0.1:{free_port()}\n")
        env = {"CONFIG": cfg, "PIDFILE": os.path.join(tmp, "proxyd.pid")}
        sbin = os.path.join(d, "usr/local/sbin")
        pid = None
        try:
            for key in ("ExecStartPre", "ExecStart"):
                for argv in unit_commands(unit, key, env):
                    argv[0] = argv[0].replace("/usr/local/sbin", sbin)
                    r = subprocess.run(argv, capture_output=True, text=True, timeout=10)
                    check(r.returncode == 0, f"{key} {argv}: {r.returncode} {r.stderr}")
            # Type=forking: when ExecStart returns, the daemon serves and the
            # pid file names it.
            with socket.create_connection(("127.0.0.1", port), timeout=2):
                pass
            pid = int(open(env["PIDFILE"]).read())
            check(pid_alive(pid), f"pid file names {pid}, not running")
            check(os.readlink(f"/proc/{pid}/exe").endswith("/proxyd"), f"pid {pid} is not proxyd")
        finally:
            if pid and pid_alive(pid):
                os.kill(pid, signal.SIGTERM)
                if not wait_until(lambda: not pid_alive(pid), 3.0):
                    os.kill(pid, signal.SIGKILL)
            shutil.rmtree(tmp, ignore_errors=True)


def test_vrrpd_unit_check_runs_what_it_can_and_refuses_the_rest():
    """vrrpd.service's ExecStartPre as systemd runs it ($$ is a literal $):
    exit 0 for the installed config and for one that only lacks
    enable_script_security (vrrpd -t: 5, vrrpd runs it), non-zero for one
    with errors (vrrpd -t: 3)."""
    with staged() as (d, _):
        unit = os.path.join(d, "etc/systemd/system/vrrpd.service")
        tmp = tempfile.mkdtemp(prefix="vrrpd-unit-")
        try:
            insecure = os.path.join(tmp, "insecure.conf")
            with open(insecure, "w") as f:
                f.write('vrrp_script s {\n  script "/bin/true"\n}\n'
                        "vrrp_instance X {\n  interface lo\n  virtual_router_id 1\n  priority 100\n"
                        "  virtual_ipaddress {\n    198.18.0.1\n  }\n  track_script {\n    s\n  }\n}\n")
            broken = os.path.join(tmp, "broken.conf")
            with open(broken, "w") as f:
                f.write("vrrp_instance X {\n  interface lo\n  virtual_router_id 1\n  priority 300\n}\n")
            sbin = os.path.join(d, "usr/local/sbin")
            cases = [(os.path.join(d, "etc/vrrpd/keepalived.conf"), True), (insecure, True), (broken, False)]
            for conf, ok in cases:
                for key in ("ExecStartPre", "ExecReload"):
                    argv = unit_commands(unit, key, {"CONFIG": conf, "PIDFILE": "/nonexistent"})[0]
                    argv = [a.replace("$$", "$").replace("/usr/local/sbin", sbin) for a in argv]
                    r = subprocess.run(argv, env=dict(os.environ, CONFIG=conf), capture_output=True,
                                       text=True, timeout=10)
                    check((r.returncode == 0) == ok,
                          f"{key} on {os.path.basename(conf)}: exit {r.returncode}, want "
                          f"{'0' if ok else 'non-zero'}\n{r.stderr}")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def test_sysctl_file_applies_in_a_fresh_netns():
    if os.geteuid() != 0:
        raise Skip("needs root (a network namespace)")
    if is_haproxy():
        raise Skip("proxyd's packaging")
    ns = f"sysctl-{os.getpid() % 100000}"
    subprocess.run(["ip", "netns", "add", ns], check=True, timeout=10)
    try:
        def value() -> str:
            return subprocess.run(["ip", "netns", "exec", ns, "sysctl", "-n", "net.ipv4.ip_nonlocal_bind"],
                                  capture_output=True, text=True, timeout=10).stdout.strip()
        check(value() == "0", f"a fresh namespace starts with ip_nonlocal_bind={value()!r}")
        r = subprocess.run(["ip", "netns", "exec", ns, "sysctl", "-p", SYSCTL],
                           capture_output=True, text=True, timeout=10)
        check(r.returncode == 0, f"sysctl -p: {r.returncode} {r.stderr}")
        check(value() == "1", f"after sysctl -p: ip_nonlocal_bind={value()!r}")
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=10)


if __name__ == "__main__":
    run_tests(globals())
