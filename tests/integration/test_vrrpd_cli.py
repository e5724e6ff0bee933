#!/usr/bin/env python3
"""vrrpd's command line: -t on every conf/ keepalived example (exit codes and
messages as conf/EXPECTED-keepalived says), file:line errors, a missing file,
--dump, -v, -h, bad options, and the daemon refusing to run (not yet
implemented).

Environment: VRRPD the binary (default $BUILD/vrrpd/vrrpd, BUILD defaults to
$SRC/build), SRC the repository root. Standard library only; every run is
bounded in time.
"""

from __future__ import annotations

import os
import pwd
import subprocess
import sys
import tempfile
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("SRC") or os.path.abspath(os.path.join(HERE, "..", ".."))
BUILD = os.environ.get("BUILD") or os.path.join(SRC, "build")
VRRPD = os.environ.get("VRRPD") or os.path.join(BUILD, "vrrpd", "vrrpd")
CONF = os.path.join(SRC, "conf")


class Skip(Exception):
    pass


def check(cond: bool, msg: str) -> None:
    if not cond:
        raise AssertionError(msg)


def run(args: list[str], timeout: float = 10.0) -> subprocess.CompletedProcess:
    return subprocess.run([VRRPD, *args], capture_output=True, text=True, timeout=timeout)


def write(dirname: str, text: str, name: str = "keepalived.conf") -> str:
    path = os.path.join(dirname, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def read_expected() -> list[tuple[str, str, str]]:
    entries = []
    with open(os.path.join(CONF, "EXPECTED-keepalived")) as f:
        for ln in f:
            if ln.lstrip().startswith("#") or not ln.strip():
                continue
            parts = ln.split(None, 2)
            check(len(parts) >= 2 and parts[1] in ("ok", "warn", "fail"), f"bad line: {ln!r}")
            entries.append((parts[0], parts[1], parts[2].strip() if len(parts) > 2 else ""))
    return entries


SECURE = "global_defs {\n  enable_script_security\n  script_user nobody\n}\n"
INSTANCE = ("vrrp_instance VI_1 {\n  state BACKUP\n  interface eth0\n  virtual_router_id 51\n"
            "  priority 100\n  virtual_ipaddress {\n    198.18.0.222\n  }\n")


def test_conf_files_match_expected():
    entries = read_expected()
    listed = {e[0] for e in entries}
    for name in sorted(os.listdir(CONF)):
        if name.startswith("keepalived-") and name.endswith(".conf"):
            check(name in listed, f"conf/{name} has no line in conf/EXPECTED-keepalived")
    has_ks = user_exists("keepalived_script")
    problems = []
    for name, verdict, substring in entries:
        r = run(["-t", "-f", os.path.join(CONF, name)])
        first = r.stderr.splitlines()[0] if r.stderr.strip() else ""
        if verdict == "ok":
            ok = r.returncode == 0 and not r.stderr.strip()
        elif verdict == "warn" and "SECURITY VIOLATION" in substring and has_ks:
            ok = r.returncode == 0  # scripts run as keepalived_script here
        elif verdict == "warn":
            want = 5 if "SECURITY VIOLATION" in substring else 4
            ok = r.returncode == want and ": warning: " in first and substring in first
        else:
            ok = r.returncode == 3 and substring in first and ": warning: " not in first
        if not ok:
            problems.append(f"{name}: expected {verdict} {substring!r}, exit {r.returncode}: {first}")
    check(not problems, "\n".join(problems))


def test_errors_carry_file_and_line_and_all_are_reported():
    with tempfile.TemporaryDirectory() as d:
        path = write(d, INSTANCE + "  bogus_kw 3\n  priority 300\n}\nvirtual_server 1.2.3.4 80 {\n}\n")
        r = run(["-t", "-f", path])
        check(r.returncode == 3, f"exit {r.returncode}")
        lines = r.stderr.splitlines()
        check(f"{path}:9: unsupported keyword 'bogus_kw'" in lines, r.stderr)
        check(any(ln.startswith(f"{path}:10: 'priority': invalid value '300'") for ln in lines), r.stderr)
        check(f"{path}:12: virtual_server is not supported (IPVS is not available)" in lines, r.stderr)
        check(r.stdout == "", "nothing on stdout for -t")


def test_clean_config_exits_0_silently():
    with tempfile.TemporaryDirectory() as d:
        path = write(d, SECURE + INSTANCE + "}\n")
        r = run(["-t", "-f", path])
        check(r.returncode == 0 and r.stderr == "" and r.stdout == "",
              f"exit {r.returncode}: {r.stderr}")
        r = run([f"--config-test", "-f", path])
        check(r.returncode == 0, f"--config-test: exit {r.returncode}")


def test_corrections_exit_4_as_keepalived_documents():
    with tempfile.TemporaryDirectory() as d:
        path = write(d, INSTANCE.replace("BACKUP", "MASTER") + "  nopreempt\n}\n")
        r = run(["-t", "-f", path])
        check(r.returncode == 4, f"exit {r.returncode}")
        check("Warning - nopreempt will not work with initial state MASTER - clearing" in r.stderr,
              r.stderr)


def test_security_violation_exits_5():
    if user_exists("keepalived_script"):
        raise Skip("user keepalived_script exists: scripts would not run as root")
    with tempfile.TemporaryDirectory() as d:
        path = write(d, INSTANCE + "  notify_master /bin/true\n}\n")
        r = run(["-t", "-f", path])
        check(r.returncode == 5, f"exit {r.returncode}: {r.stderr}")
        check("SECURITY VIOLATION" in r.stderr, r.stderr)


def test_missing_file_exits_3():
    r = run(["-t", "-f", "/nonexistent/keepalived.conf"])
    check(r.returncode == 3, f"exit {r.returncode}")
    check("/nonexistent/keepalived.conf" in r.stderr, r.stderr)


def test_config_test_log_file():
    with tempfile.TemporaryDirectory() as d:
        path = write(d, INSTANCE + "  bogus\n}\n")
        log = os.path.join(d, "test.log")
        r = run([f"--config-test={log}", "-f", path])
        check(r.returncode == 3, f"exit {r.returncode}")
        with open(log) as f:
            check("unsupported keyword 'bogus'" in f.read(), "diagnostic not in the log file")


def test_dump_prints_resolved_yaml():
    r = run(["--dump", "-f", os.path.join(CONF, "keepalived-lab-master.conf")])
    check(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
    for needle in ("global_defs:", "router_id: test1", "vrrp_instances:", "name: VI_1",
                   "state: MASTER", "priority: 100", "virtual_router_id: 51",
                   "address: 198.18.0.222/32", "dev: eth0", "auth_pass: 123456",
                   "vrrp_mcast_group4: 224.0.0.18", "advert_int: 1s", "garp_master_delay: 5s"):
        check(needle in r.stdout, f"{needle!r} missing from --dump output")
    with tempfile.TemporaryDirectory() as d:
        path = write(d, INSTANCE + "  bogus\n}\n")
        r = run(["--dump", "-f", path])
        check(r.returncode == 3 and r.stdout == "", f"--dump of a bad file: exit {r.returncode}")


def test_version_help_and_bad_options():
    r = run(["-v"])
    check(r.returncode == 0 and r.stdout.startswith("vrrpd "), f"-v: {r.returncode} {r.stdout}")
    r = run(["--help"])
    check(r.returncode == 0 and "--config-test" in r.stdout and "--dump" in r.stdout, "help")
    r = run(["--bogus"])
    check(r.returncode == 1 and "unknown option" in r.stderr, f"--bogus: {r.returncode} {r.stderr}")
    r = run(["-f"])
    check(r.returncode == 1 and "needs an argument" in r.stderr, f"-f: {r.returncode} {r.stderr}")
    r = run(["-t", "-f", os.path.join(CONF, "keepalived-v3.conf"), "extra"])
    check(r.returncode == 1 and "unexpected argument" in r.stderr, f"extra: {r.returncode}")


def test_daemon_options_parse_then_a_missing_interface_refuses_to_run():
    # The daemon itself runs in network namespaces (tests/netns); here it must
    # refuse clearly, without touching the host, when its interface is absent.
    with tempfile.TemporaryDirectory() as tmp:
        cfg = os.path.join(tmp, "k.conf")
        with open(cfg, "w") as f:
            f.write("vrrp_instance VI_1 {\n  interface vrrpdnosuch0\n  virtual_router_id 51\n"
                    "  priority 100\n  virtual_ipaddress {\n    198.18.0.222\n  }\n}\n")
        pid = os.path.join(tmp, "x.pid")
        r = run(["-n", "-l", "-D", "-P", "-p", pid, "-r", os.path.join(tmp, "y.pid"), "-f", cfg])
        check(r.returncode == 3, f"exit {r.returncode}: {r.stderr}")
        check("interface vrrpdnosuch0 not found" in r.stderr, r.stderr)
        check(not os.path.exists(pid), "a pidfile was written by a daemon that did not start")
    r = run(["-nlD", "--use-file", os.path.join(CONF, "keepalived-v3.conf"), "-t"])
    check(r.returncode == 0, f"combined short options: exit {r.returncode}: {r.stderr}")


def test_pidfile_symlink_is_refused():
    # A symlink planted at -p's path must not make vrrpd (root) write through
    # it. The daemon runs in a network namespace of its own (only lo), so the
    # host is never touched even if it did start.
    if os.geteuid() != 0:
        raise Skip("needs root (a network namespace for the daemon)")
    with tempfile.TemporaryDirectory() as tmp:
        cfg = os.path.join(tmp, "k.conf")
        with open(cfg, "w") as f:
            f.write("vrrp_instance VI_1 {\n  interface lo\n  virtual_router_id 51\n"
                    "  priority 100\n  virtual_ipaddress {\n    198.18.0.222\n  }\n}\n")
        target = os.path.join(tmp, "precious")
        with open(target, "w") as f:
            f.write("keep me\n")
        pid = os.path.join(tmp, "x.pid")
        os.symlink(target, pid)
        p = subprocess.Popen(["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$0" "$@"',
                              VRRPD, "-n", "-l", "-D", "-p", pid, "-f", cfg],
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
        try:
            out, _ = p.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()  # unshare and sh exec vrrpd: this is its pid
            out, _ = p.communicate(timeout=5)
        check(p.returncode not in (0, None, -9), f"vrrpd ran with a symlinked pidfile ({p.returncode})")
        check(open(target).read() == "keep me\n", "vrrpd wrote through the symlink")
        check("symbolic link" in out, "no clear reason given:\n" + out)


def main() -> None:
    tests = [(n, f) for n, f in globals().items() if n.startswith("test_") and callable(f)]
    if not os.path.exists(VRRPD):
        print(f"binary under test not found: {VRRPD} (set VRRPD)")
        sys.exit(1)
    print(f"binary under test: {VRRPD}")
    passed = failed = 0
    for name, fn in tests:
        try:
            fn()
        except Skip as e:
            print(f"SKIP {name}: {e}")
            continue
        except Exception as e:  # noqa: BLE001
            failed += 1
            print(f"FAIL {name}: {type(e).__name__}: {e}")
            print("    " + "\n    ".join(traceback.format_exc().rstrip().splitlines()[-4:]))
            continue
        passed += 1
        print(f"PASS {name}")
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
