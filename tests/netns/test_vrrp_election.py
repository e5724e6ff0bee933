"""Elections and failovers of vrrpd with vrrpd (and one with keepalived as
the MASTER at advert_int 0.1): LAN cut, nopreempt, preempt_delay,
unicast_peer, wrong authentication. Root only; each test builds and removes
its own lab (198.18.0.0/15). Prints measured times, ends "N passed, N failed".
"""

from __future__ import annotations

import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from test_vrrp_interop import Node, check, conf, failover, main, netlab, owner, pair  # noqa: E402,F401


def test_master_cut_off_the_lan_backup_takes_over_within_master_down_interval():
    with netlab.Lab() as lab, tempfile.TemporaryDirectory() as tmp:
        a, b = pair(lab, tmp, "vrrpd", conf(100, "MASTER", 3, "0.1"), "vrrpd", conf(99, "BACKUP", 3, "0.1"))
        a.start(); b.start()
        check(netlab.wait_until(lambda: owner(a, b) == "lb1", 5), "lb1 never became the only MASTER")
        time.sleep(0.5)
        t0 = time.monotonic()
        lab.cut("lb1")
        check(netlab.wait_until(b.holds, 3, 0.005), "lb2 did not take over")
        took = time.monotonic() - t0
        # Master_Down_Interval at 99, 0.1 s: 3 x 0.1 + (256-99) x 0.1 / 256 = 0.361 s
        print(f"    LAN cut: lb2 took the VIP {took * 1000:.0f} ms later (Master_Down_Interval 361 ms)")
        check(took < 0.361 + 0.1 + 0.15, f"took {took:.3f}s")
        lab.restore("lb1")
        check(netlab.wait_until(lambda: owner(a, b) == "lb1", 3), "no failback after the LAN returned")


def test_nopreempt_keeps_the_lower_master_until_it_stops():
    with netlab.Lab() as lab, tempfile.TemporaryDirectory() as tmp:
        a, b = pair(lab, tmp, "vrrpd", conf(100, "BACKUP", 3, "0.1", extra="    nopreempt\n"),
                    "vrrpd", conf(99, "BACKUP", 3, "0.1"))
        b.start()
        check(netlab.wait_until(b.holds, 5), "lb2 never became MASTER alone")
        a.start()
        time.sleep(1.5)
        check(owner(a, b) == "lb2", f"nopreempt lb1 took over anyway (owner {owner(a, b)})")
        b.stop()
        check(netlab.wait_until(a.holds, 2), "lb1 did not take over when lb2 stopped")


def test_preempt_delay_waits_before_taking_over():
    with netlab.Lab() as lab, tempfile.TemporaryDirectory() as tmp:
        a, b = pair(lab, tmp, "vrrpd", conf(100, "BACKUP", 3, "0.1", extra="    preempt_delay 2\n"),
                    "vrrpd", conf(99, "BACKUP", 3, "0.1"))
        b.start()
        check(netlab.wait_until(b.holds, 5), "lb2 never became MASTER alone")
        t0 = time.monotonic()
        a.start()
        time.sleep(1.2)
        check(owner(a, b) == "lb2", f"lb1 preempted before preempt_delay (owner {owner(a, b)})")
        check(netlab.wait_until(lambda: owner(a, b) == "lb1", 4), "lb1 never preempted")
        took = time.monotonic() - t0
        print(f"    preempt_delay 2: lb1 took over {took:.2f} s after starting")
        check(1.9 < took < 3.5, f"preempted after {took:.2f}s")


def test_unicast_peers_elect_and_fail_over():
    uni1 = "    unicast_src_ip 198.18.0.11\n    unicast_peer {\n        198.18.0.12\n    }\n"
    uni2 = "    unicast_src_ip 198.18.0.12\n    unicast_peer {\n        198.18.0.11\n    }\n"
    with netlab.Lab() as lab, tempfile.TemporaryDirectory() as tmp:
        a, b = pair(lab, tmp, "vrrpd", conf(100, "MASTER", 2, "1", extra=uni1),
                    "keepalived", conf(99, "BACKUP", 2, "1", extra=uni2))
        a.start(); b.start()
        failover(a, b, 0.613 + 0.4, "unicast v2 vrrpd->keepalived")


def test_wrong_authentication_is_ignored_and_logged():
    with netlab.Lab() as lab, tempfile.TemporaryDirectory() as tmp:
        bad = conf(99).replace("auth_pass 123456", "auth_pass wrongpw")
        a, b = pair(lab, tmp, "vrrpd", conf(100, "MASTER"), "vrrpd", bad)
        a.start(); b.start()
        # Each side drops the other's adverts, so both end up MASTER.
        check(netlab.wait_until(lambda: owner(a, b) == "both", 8),
              f"owner {owner(a, b)}: adverts with the wrong password were not ignored")
        check(netlab.wait_until(lambda: "invalid passwd" in b.output(), 3),
              "no authentication rejection logged:\n" + b.output()[-1500:])


def test_keepalived_master_v3_fast_vrrpd_backup():
    with netlab.Lab() as lab, tempfile.TemporaryDirectory() as tmp:
        a, b = pair(lab, tmp, "keepalived", conf(100, "MASTER", 3, "0.1"), "vrrpd",
                    conf(99, "BACKUP", 3, "0.1"))
        a.start(); b.start()
        # keepalived takes up to about a second from SIGTERM to its priority-0
        # advert, so the bound is about interoperating, not speed.
        failover(a, b, 0.061 + 1.4, "v3 0.1s keepalived->vrrpd")


def test_vip_left_behind_by_a_crash_is_removed_at_start():
    with netlab.Lab() as lab, tempfile.TemporaryDirectory() as tmp:
        a, b = pair(lab, tmp, "keepalived", conf(100, "MASTER", 3, "0.1"), "vrrpd",
                    conf(99, "BACKUP", 3, "0.1"))
        a.start()
        check(netlab.wait_until(a.holds, 5), "keepalived never took the VIP")
        # A vrrpd that crashed as MASTER left the VIP on lb2.
        lab.run("lb2", ["ip", "addr", "add", "198.18.0.222/24", "dev", "eth0"])
        check(b.holds(), "could not plant the leftover VIP")
        b.start()
        check(netlab.wait_until(lambda: not b.holds(), 3),
              "vrrpd did not remove the leftover VIP at start:\n" + b.output()[-1500:])
        check("leftover VIP" in b.output(), "no log line about the leftover VIP")
        time.sleep(0.5)
        check(owner(a, b) == "lb1", f"owner {owner(a, b)}")


if __name__ == "__main__":
    sys.exit(main(globals()))
