"""vrrpd's SIGHUP reload and vrrp_sync_group, against the real keepalived
(Debian's 2.2.7) as the peer, on network namespaces addressed in
198.18.0.0/15. Root only. Each test builds its own lab and tears it down
(namespaces deleted, processes stopped by pid).

Prints PASS/FAIL per test, the measured figures, and "N passed, N failed".
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vrrp_nodes import (KEEPALIVED, SRC, VIP, VRRPD, Node, check, conf, instance,  # noqa: E402,F401
                        netlab, run_tests, script_file)

VIP2, VIP3 = "198.18.0.223", "198.18.0.224"


def sampler(fn, period: float = 0.02):
    """Samples fn() every `period` seconds in a thread; stop() returns the list."""
    import threading
    out: list = []
    done = threading.Event()

    def loop():
        while not done.is_set():
            out.append(fn())
            time.sleep(period)

    t = threading.Thread(target=loop)
    t.start()

    def stop():
        done.set()
        t.join()
        return out
    return stop


# -- 1. SIGHUP reload ------------------------------------------------------------

def test_sighup_keeps_unchanged_master_stops_removed_starts_added():
    with netlab.Lab() as lab, tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        lab.add_host("lb1", "198.18.0.11")
        lab.add_host("lb2", "198.18.0.12")
        i1 = instance(100)
        i2 = instance(100, 52, VIP2, name="VI_2")
        i3 = instance(100, 53, VIP3, name="VI_3")
        a = Node(lab, "lb1", "vrrpd", conf(i1 + i2), tmp)
        b = Node(lab, "lb2", "keepalived",
                 conf(instance(99) + instance(99, 52, VIP2, name="VI_2")), tmp)
        a.start()
        check(netlab.wait_until(lambda: a.holds() and a.holds(VIP2), 8), "vrrpd never became MASTER")
        b.start()
        time.sleep(2)
        check(not b.holds() and not b.holds(VIP2), "keepalived (99) must stay BACKUP")
        # VI_1 unchanged, VI_2 removed, VI_3 added
        a.write(conf(i1 + i3))
        stop = sampler(lambda: (a.holds(), b.holds()))
        t0 = time.monotonic()
        os.kill(a.pid(), signal.SIGHUP)
        check(netlab.wait_until(lambda: "Reload complete" in a.output(), 3), "no reload:\n" + a.output()[-1500:])
        check(netlab.wait_until(lambda: b.holds(VIP2) and not a.holds(VIP2), 3),
              "removed VI_2: keepalived did not take its VIP (priority 0 expected)")
        took = time.monotonic() - t0
        check(netlab.wait_until(lambda: a.holds(VIP3), 8), "added VI_3 never became MASTER")
        samples = stop()
        print(f"    {len(samples)} samples of {VIP} every 20 ms across the reload; keepalived "
              f"had VI_2's VIP {took * 1000:.0f} ms after SIGHUP")
        check(all(s[0] for s in samples), "VI_1's VIP was missing in a sample during the reload")
        check(not any(s[1] for s in samples), "keepalived took VI_1 during the reload")
        out = a.output().split("Reloading")[-1]
        check("(VI_1) Entering" not in out, "VI_1 changed state on reload:\n" + out)
        check("(VI_2) removed - stopping" in out, "no line for the removed instance:\n" + out)
        check("Backup received priority 0 advertisement" in b.output() or
              "(VI_2) Entering MASTER STATE" in b.output(), "keepalived did not see VI_2 leave")
        # a changed instance is restarted: VI_1 with another priority
        a.write(conf(instance(110) + i3))
        os.kill(a.pid(), signal.SIGHUP)
        check(netlab.wait_until(lambda: a.output().count("Reload complete") == 2, 3), "no 2nd reload")
        check("(VI_1) configuration changed - restarting" in a.output(), "VI_1 not restarted")
        check(netlab.wait_until(lambda: a.holds() and not b.holds(), 8), "restarted VI_1 not MASTER")


def test_sighup_with_errors_is_refused_and_the_running_config_stays():
    with netlab.Lab() as lab, tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        lab.add_host("lb1", "198.18.0.11")
        a = Node(lab, "lb1", "vrrpd", conf(instance(100)), tmp)
        a.start()
        check(netlab.wait_until(a.holds, 8), "vrrpd never became MASTER")
        a.write(conf(instance(100) + "bogus_keyword\n"))
        stop = sampler(a.holds)
        os.kill(a.pid(), signal.SIGHUP)
        check(netlab.wait_until(lambda: "Reload failed" in a.output(), 3), "no refusal:\n" + a.output()[-1500:])
        time.sleep(0.5)
        samples = stop()
        check(all(samples), "the VIP went away on a refused reload")
        check("unsupported keyword 'bogus_keyword'" in a.output(), "the error is not logged")
        check("Reload complete" not in a.output(), "a bad file was applied")
        check(a.proc.poll() is None, "vrrpd died")


# -- 2. vrrp_sync_group -------------------------------------------------------------

def group_conf(prio1: int, prio2: int, tmp: str, track: str = "", notify: str = "") -> str:
    g = f"""vrrp_sync_group G1 {{
    group {{
        VI_1
        VI_2
    }}
{notify}}}
"""
    return conf(g + instance(prio1, extra=track) + instance(prio2, 52, VIP2, name="VI_2"))


def test_sync_group_faults_and_recovers_together_with_group_notify():
    with netlab.Lab() as lab, tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        trace = os.path.join(tmp, "group.log")
        note = script_file(tmp, "notify.sh", f'echo "$*" >> {trace}')
        flag = os.path.join(tmp, "healthy")
        open(flag, "w").close()
        chk = (f'vrrp_script chk {{\n    script "/usr/bin/test -f {flag}"\n    interval 1\n}}\n')
        lab.add_host("lb1", "198.18.0.11")
        lab.add_host("lb2", "198.18.0.12")
        a = Node(lab, "lb1", "vrrpd",
                 chk + group_conf(100, 100, tmp, "    track_script {\n        chk\n    }\n",
                                  f'    notify "{note}"\n'), tmp)
        b = Node(lab, "lb2", "keepalived", group_conf(99, 99, tmp), tmp)
        a.start(); b.start()
        check(netlab.wait_until(lambda: a.holds() and a.holds(VIP2), 10),
              "vrrpd's group never became MASTER:\n" + a.output()[-1500:])
        check(netlab.wait_until(lambda: os.path.exists(trace) and "GROUP G1 MASTER 0" in open(trace).read(), 3),
              "no group MASTER notify")
        # VI_1's script fails: VI_1 FAULT takes VI_2 with it
        os.unlink(flag)
        check(netlab.wait_until(lambda: b.holds() and b.holds(VIP2) and not a.holds(VIP2), 5),
              "keepalived did not take both VIPs:\n" + a.output()[-1500:])
        out = a.output()
        check("VRRP_Group(G1) Syncing instances to FAULT state" in out, "no group FAULT line")
        check("(VI_2) Entering FAULT STATE" in out, "VI_2 did not follow VI_1 into FAULT")
        check(netlab.wait_until(lambda: "GROUP G1 FAULT 0" in open(trace).read(), 3), "no group FAULT notify")
        open(flag, "w").close()
        check(netlab.wait_until(lambda: a.holds() and a.holds(VIP2) and not b.holds(VIP2), 10),
              "vrrpd's group did not come back:\n" + a.output()[-1500:])
        lines = [x for x in open(trace).read().split("\n") if x]
        print(f"    group notify calls: {lines}")
        check(lines[-1] == "GROUP G1 MASTER 0", f"group notify calls: {lines}")


def test_sync_group_member_going_backup_takes_the_other_along():
    with netlab.Lab() as lab, tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        lab.add_host("lb1", "198.18.0.11")
        lab.add_host("lb2", "198.18.0.12")
        a = Node(lab, "lb1", "vrrpd", group_conf(100, 100, tmp), tmp)
        # keepalived, no group: higher on VI_1 only
        b = Node(lab, "lb2", "keepalived",
                 conf(instance(150) + instance(50, 52, VIP2, name="VI_2")), tmp)
        a.start()
        check(netlab.wait_until(lambda: a.holds() and a.holds(VIP2), 10), "vrrpd's group never MASTER")
        b.start()
        # VI_1 hears 150 and goes BACKUP; VI_2 must follow though it is the
        # higher of its pair, and stay BACKUP (the group prefers BACKUP)
        check(netlab.wait_until(lambda: b.holds() and not a.holds() and not a.holds(VIP2), 5),
              "VI_2 did not follow VI_1 to BACKUP:\n" + a.output()[-1500:])
        check("VRRP_Group(G1) Syncing instances to BACKUP state" in a.output(), "no group BACKUP line")
        check(netlab.wait_until(lambda: b.holds(VIP2), 6), "keepalived's VI_2 (50) never took over")
        time.sleep(3)
        check(not a.holds() and not a.holds(VIP2), "vrrpd's group flapped back to MASTER:\n"
              + a.output()[-1500:])


if __name__ == "__main__":
    sys.exit(run_tests(globals()))
