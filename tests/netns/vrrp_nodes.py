"""Shared helpers of the vrrpd netns tests: a Node (vrrpd or keepalived in a
lab host), config builders, and the runner. Root only; 198.18.0.0/15 only.
"""

from __future__ import annotations

import json
import os
import shutil
import re
import signal
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("SRC") or os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(SRC, "deploy", "lab"))
import netlab  # noqa: E402

VRRPD = os.environ.get("VRRPD") or os.path.join(SRC, "build", "vrrpd", "vrrpd")
KEEPALIVED = "/usr/sbin/keepalived"
VIP = "198.18.0.222"


def instance(prio: int, vrid: int = 51, vip: str = VIP, extra: str = "", auth: str = "123456",
             name: str = "VI_1") -> str:
    return f"""vrrp_instance {name} {{
    state BACKUP
    interface eth0
    virtual_router_id {vrid}
    priority {prio}
    advert_int 1
    authentication {{
        auth_type PASS
        auth_pass {auth}
    }}
    virtual_ipaddress {{
        {vip}/24 dev eth0
    }}
{extra}}}
"""


def conf(body: str, glob: str = "") -> str:
    return f"global_defs {{\n    router_id lab\n{glob}}}\n" + body


class Node:
    """One VRRP speaker (vrrpd or keepalived) in a lab host."""

    def __init__(self, lab: netlab.Lab, host: str, kind: str, text: str, tmp: str,
                 private_tmp: bool = False):
        if private_tmp:
            # The daemon will get its own empty /tmp, which hides this test's
            # temp dir (and a build that lives under /tmp): keep what it needs
            # (binary, config, pidfile) under /run instead.
            tmp = tempfile.mkdtemp(prefix="vrrpd-test-", dir="/run")
            lab.cleanups.append(lambda d=tmp: shutil.rmtree(d, ignore_errors=True))
            self.binary = os.path.join(tmp, "vrrpd")
            shutil.copy2(VRRPD, self.binary)
        else:
            self.binary = VRRPD
        self.lab, self.host, self.kind, self.tmp = lab, host, kind, tmp
        self.cfg = os.path.join(tmp, f"{host}-{kind}.conf")
        self.write(text)
        self.log = os.path.join(tmp, f"{host}-{kind}.log")
        self.pidfile = os.path.join(tmp, f"{host}-{kind}.pid")
        self.private_tmp = private_tmp
        self.proc: subprocess.Popen | None = None

    def write(self, text: str) -> None:
        with open(self.cfg, "w") as f:
            f.write(text)

    def start(self) -> None:
        if self.kind == "vrrpd":
            cmd = [self.binary, "-n", "-l", "-D", "-f", self.cfg, "-p", self.pidfile]
        else:
            cmd = [KEEPALIVED, "-n", "-l", "-D", "-P", "-f", self.cfg,
                   "-p", os.path.join(self.tmp, f"{self.host}-k.pid"), "-r", self.pidfile]
        if self.private_tmp:
            # keepalived's dump files live in /tmp: give the daemon its own.
            cmd = ["unshare", "-m", "sh", "-c",
                   "mount -t tmpfs vrrpd-tmp /tmp && exec " + " ".join(cmd)]
        out = open(self.log, "a")
        self.proc = self.lab.spawn(self.host, cmd, stdout=out, stderr=subprocess.STDOUT)

    def pid(self) -> int:
        assert netlab.wait_until(lambda: os.path.exists(self.pidfile)
                                 and open(self.pidfile).read().strip(), 5), "no pidfile"
        return int(open(self.pidfile).read())

    def stop(self) -> None:
        if self.proc:
            self.lab.stop(self.proc)

    def holds(self, ip: str = VIP) -> bool:
        return self.lab.holds(self.host, ip)

    def output(self) -> str:
        with open(self.log) as f:
            return f.read()


def check(cond: bool, msg: str) -> None:
    if not cond:
        raise AssertionError(msg)


def script_file(tmp: str, name: str, body: str, mode: int = 0o755, sub: str = "") -> str:
    d = os.path.join(tmp, sub) if sub else tmp
    os.makedirs(d, exist_ok=True)
    p = os.path.join(d, name)
    with open(p, "w") as f:
        f.write("#!/bin/sh\n" + body + "\n")
    os.chmod(p, mode)
    return p


def run_tests(namespace: dict) -> int:
    """Runs every test_* of `namespace` (filtered by argv substrings); prints
    PASS/FAIL and "N passed, N failed"."""
    if os.geteuid() != 0:
        print("netns tests need root")
        print("0 passed, 1 failed")
        return 1
    tests = [(n, f) for n, f in namespace.items() if n.startswith("test_") and callable(f)]
    if len(sys.argv) > 1:
        tests = [(n, f) for n, f in tests if any(a in n for a in sys.argv[1:])]
    passed = failed = 0
    for name, fn in tests:
        t0 = time.monotonic()
        try:
            fn()
            passed += 1
            print(f"PASS {name} ({time.monotonic() - t0:.1f}s)", flush=True)
        except Exception as e:  # report and go on
            failed += 1
            print(f"FAIL {name} ({time.monotonic() - t0:.1f}s): {e}", flush=True)
            traceback.print_exc()
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0
