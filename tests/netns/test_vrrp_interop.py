"""vrrpd against the real keepalived (Debian's 2.2), on a segment of network
namespaces addressed in 198.18.0.0/15. Root only. Each test builds its own
lab and tears it down (namespaces deleted, processes stopped by pid).

Prints PASS/FAIL per test and ends with "N passed, N failed".
"""

from __future__ import annotations

import os
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


def conf(prio: int, state: str = "BACKUP", version: int = 2, advert: str = "1",
         notify: str | None = None, extra: str = "") -> str:
    auth = "" if version == 3 else """
    authentication {
        auth_type PASS
        auth_pass 123456
    }"""
    note = f'    notify "{notify}"\n' if notify else ""
    return f"""global_defs {{
    router_id lab
    vrrp_version {version}
}}
vrrp_instance VI_1 {{
    state {state}
    interface eth0
    virtual_router_id 51
    priority {prio}
    advert_int {advert}
    virtual_ipaddress {{
        {VIP}/24 dev eth0
    }}{auth}
{note}{extra}}}
"""


class Node:
    """One VRRP speaker (vrrpd or keepalived) in a lab host."""

    def __init__(self, lab: netlab.Lab, host: str, kind: str, text: str, tmp: str):
        self.lab, self.host, self.kind = lab, host, kind
        self.cfg = os.path.join(tmp, f"{host}.conf")
        with open(self.cfg, "w") as f:
            f.write(text)
        self.log = os.path.join(tmp, f"{host}-{kind}.log")
        self.tmp = tmp
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        if self.kind == "vrrpd":
            cmd = [VRRPD, "-n", "-l", "-D", "-f", self.cfg]
        else:
            cmd = [KEEPALIVED, "-n", "-l", "-D", "-P", "-f", self.cfg,
                   "-p", os.path.join(self.tmp, f"{self.host}.pid"),
                   "-r", os.path.join(self.tmp, f"{self.host}-vrrp.pid")]
        out = open(self.log, "a")
        self.proc = self.lab.spawn(self.host, cmd, stdout=out, stderr=subprocess.STDOUT)

    def stop(self) -> None:
        if self.proc:
            self.lab.stop(self.proc)

    def holds(self) -> bool:
        return self.lab.holds(self.host, VIP)

    def output(self) -> str:
        with open(self.log) as f:
            return f.read()


def check(cond: bool, msg: str) -> None:
    if not cond:
        raise AssertionError(msg)


def pair(lab, tmp, kind1, conf1, kind2, conf2):
    lab.add_host("lb1", "198.18.0.11")
    lab.add_host("lb2", "198.18.0.12")
    return Node(lab, "lb1", kind1, conf1, tmp), Node(lab, "lb2", kind2, conf2, tmp)


def owner(a: Node, b: Node) -> str:
    ha, hb = a.holds(), b.holds()
    return "both" if ha and hb else a.host if ha else b.host if hb else "none"


def failover(master: Node, backup: Node, prio_zero_bound: float, name: str) -> None:
    """The MASTER stops cleanly (priority 0): the BACKUP holds the VIP within
    Skew_Time plus a margin, and never both at once."""
    check(netlab.wait_until(master.holds, 8), f"{name}: {master.kind} never took the VIP:\n"
          + master.output()[-1500:])
    time.sleep(1.5)  # a few adverts: the backup must stay backup
    check(owner(master, backup) == master.host,
          f"{name}: owner after convergence is {owner(master, backup)}:\n" + backup.output()[-1500:])
    t0 = time.monotonic()
    master.stop()
    check(netlab.wait_until(backup.holds, 5, 0.005), f"{name}: {backup.kind} did not take over")
    took = time.monotonic() - t0
    print(f"    {name}: {backup.kind} took the VIP {took * 1000:.0f} ms after {master.kind} stopped")
    check(took < prio_zero_bound, f"{name}: takeover took {took:.3f}s (bound {prio_zero_bound}s)\n" + backup.output()[-1200:])
    check(not master.holds(), f"{name}: the stopped {master.kind} still holds the VIP")


def test_vrrpd_master_keepalived_backup_v2():
    with netlab.Lab() as lab, tempfile.TemporaryDirectory() as tmp:
        a, b = pair(lab, tmp, "vrrpd", conf(100, "MASTER"), "keepalived", conf(99))
        a.start(); b.start()
        # keepalived's skew at 99: (256-99)/256 s = 0.613 s; margin for the lab
        failover(a, b, 0.613 + 0.4, "v2 vrrpd->keepalived")


def test_keepalived_master_vrrpd_backup_v2_and_failback():
    with netlab.Lab() as lab, tempfile.TemporaryDirectory() as tmp:
        a, b = pair(lab, tmp, "keepalived", conf(100, "MASTER"), "vrrpd", conf(99))
        a.start(); b.start()
        # keepalived itself takes a few hundred ms between SIGTERM and its
        # priority-0 advert, so the bound is looser than skew + margin.
        failover(a, b, 0.613 + 0.9, "v2 keepalived->vrrpd")
        # keepalived comes back with the higher priority and preempts: vrrpd
        # must hand the VIP back (it hears a higher-priority advert).
        a.start()
        check(netlab.wait_until(lambda: a.holds() and not b.holds(), 8),
              "failback: keepalived did not get the VIP back:\n" + b.output()[-1500:])
        check("Entering BACKUP STATE" in b.output().split("Entering MASTER STATE")[-1],
              "vrrpd did not log its return to BACKUP")


def test_v3_fast_adverts_interoperate():
    with netlab.Lab() as lab, tempfile.TemporaryDirectory() as tmp:
        a, b = pair(lab, tmp, "vrrpd", conf(100, "MASTER", 3, "0.1"), "keepalived",
                    conf(99, "BACKUP", 3, "0.1"))
        a.start(); b.start()
        # v3 at 0.1 s: skew (256-99)*0.1/256 = 61 ms
        failover(a, b, 0.061 + 0.3, "v3 0.1s vrrpd->keepalived")


def test_two_vrrpd_at_most_one_holds_the_vip():
    with netlab.Lab() as lab, tempfile.TemporaryDirectory() as tmp:
        a, b = pair(lab, tmp, "vrrpd", conf(100, "MASTER", 3, "0.1"), "vrrpd",
                    conf(99, "BACKUP", 3, "0.1"))
        a.start(); b.start()
        check(netlab.wait_until(a.holds, 5), "vrrpd MASTER never took the VIP")
        both = 0
        for _ in range(40):  # 2 s of samples
            both += owner(a, b) == "both"
            time.sleep(0.05)
        check(both == 0, f"both held the VIP in {both} samples")
        failover(a, b, 0.061 + 0.3, "v3 vrrpd->vrrpd")


def test_link_down_means_fault_and_the_peer_takes_over():
    with netlab.Lab() as lab, tempfile.TemporaryDirectory() as tmp:
        a, b = pair(lab, tmp, "vrrpd", conf(100, "MASTER", 3, "0.1"), "keepalived",
                    conf(99, "BACKUP", 3, "0.1"))
        a.start(); b.start()
        check(netlab.wait_until(a.holds, 5), "vrrpd never took the VIP")
        lab.link_down("lb1")
        check(netlab.wait_until(lambda: "Entering FAULT STATE" in a.output(), 3),
              "vrrpd did not enter FAULT on link down:\n" + a.output()[-1500:])
        check(netlab.wait_until(lambda: not a.holds(), 2), "FAULT vrrpd still holds the VIP")
        # lb1 is off the segment now; keepalived takes over after its master down interval
        check(netlab.wait_until(b.holds, 3), "keepalived did not take over")
        lab.link_up("lb1")
        check(netlab.wait_until(lambda: a.holds() and not b.holds(), 5),
              "vrrpd did not preempt back after its link returned:\n" + a.output()[-1500:])


def test_notify_scripts_run_in_order_with_keepalived_arguments():
    with netlab.Lab() as lab, tempfile.TemporaryDirectory() as tmp:
        trace = os.path.join(tmp, "transitions.log")
        script = os.path.join(tmp, "notify.sh")
        with open(script, "w") as f:
            f.write(f'#!/bin/sh\necho "$*" >> {trace}\n')
        os.chmod(script, 0o755)
        lab.add_host("lb1", "198.18.0.11")
        a = Node(lab, "lb1", "vrrpd", conf(100, "MASTER", 3, "0.1", notify=script), tmp)
        a.start()
        check(netlab.wait_until(a.holds, 5), "vrrpd never took the VIP")
        a.stop()
        check(netlab.wait_until(lambda: os.path.exists(trace) and "STOP" in open(trace).read(), 3),
              "no STOP notification")
        lines = open(trace).read().split("\n")
        lines = [x for x in lines if x]
        check(lines == ["INSTANCE VI_1 BACKUP 100", "INSTANCE VI_1 MASTER 100",
                        "INSTANCE VI_1 STOP 100"] or
              lines == ["INSTANCE VI_1 MASTER 100", "INSTANCE VI_1 STOP 100"],
              f"notify calls: {lines}")


def main(namespace: dict | None = None) -> int:
    if os.geteuid() != 0:
        print("netns tests need root")
        print("0 passed, 1 failed")
        return 1
    namespace = globals() if namespace is None else namespace
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


if __name__ == "__main__":
    sys.exit(main())
