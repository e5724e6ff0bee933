"""vrrpd's trackers, script security, GARP batches and the SIGUSR1/SIGUSR2
dumps, against the real keepalived (Debian's 2.2.7) where a peer is needed, on
network namespaces addressed in 198.18.0.0/15. Root only. Each test builds its
own lab and tears it down (namespaces deleted, processes stopped by pid).

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
# -- 6. vrrp_script weight, end to end ----------------------------------------

def takeover_after_script_failure(peer: str) -> float:
    with netlab.Lab() as lab, tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        flag = os.path.join(tmp, "healthy")
        open(flag, "w").close()
        chk = f'vrrp_script chk {{\n    script "/usr/bin/test -f {flag}"\n    interval 1\n    fall 1\n    rise 1\n    weight 2\n}}\n'
        ok = 'vrrp_script chk {\n    script "/usr/bin/true"\n    interval 1\n    weight 2\n}\n'
        track = "    track_script {\n        chk\n    }\n"
        lab.add_host("lb1", "198.18.0.11")
        lab.add_host("lb2", "198.18.0.12")
        a = Node(lab, "lb1", "vrrpd", conf(chk + instance(100, extra=track)), tmp)
        b = Node(lab, "lb2", peer, conf(ok + instance(99, extra=track)), tmp)
        a.start()
        check(netlab.wait_until(a.holds, 8), "vrrpd never took the VIP:\n" + a.output()[-1500:])
        b.start()
        check(netlab.wait_until(lambda: "from 99 to 101" in b.output(), 6),
              f"{peer} never reached priority 101:\n" + b.output()[-1500:])
        time.sleep(1.5)
        check(a.holds() and not b.holds(), "lb1 (102) must hold the VIP against lb2 (101)")
        t0 = time.monotonic()
        os.unlink(flag)
        check(netlab.wait_until(lambda: b.holds() and not a.holds(), 8, 0.005),
              f"{peer} never took over:\n" + a.output()[-1500:] + b.output()[-1500:])
        took = time.monotonic() - t0
        check("Changing effective priority from 102 to 100" in a.output(),
              "vrrpd did not lower its priority:\n" + a.output()[-1500:])
        return took


def test_script_failure_hands_over_within_one_script_interval():
    took = takeover_after_script_failure("vrrpd")
    print(f"    vrrpd BACKUP took the VIP {took * 1000:.0f} ms after the MASTER's script "
          f"started failing (interval 1 s, fall 1)")
    # one script interval (the check may have just run) plus a round trip
    check(took < 1.5, f"takeover took {took:.3f}s; expected about one script interval")
    took_k = takeover_after_script_failure("keepalived")
    print(f"    keepalived BACKUP (discards lower adverts) took {took_k * 1000:.0f} ms")


# -- 7. track_interface ---------------------------------------------------------

def test_track_interface_weight_lowers_priority_and_weight_0_faults():
    with netlab.Lab() as lab, tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        lab.add_host("lb1", "198.18.0.11")
        lab.add_host("lb2", "198.18.0.12")
        # a second interface: a veth pair inside lb1; taking the peer end
        # down drops eth1's carrier, as a cable pulled
        lab.run("lb1", ["ip", "link", "add", "eth1", "type", "veth", "peer", "name", "eth1p"])
        lab.run("lb1", ["ip", "link", "set", "eth1", "up"])
        lab.run("lb1", ["ip", "link", "set", "eth1p", "up"])
        weighted = "    track_interface {\n        eth1 weight -10\n    }\n"
        a = Node(lab, "lb1", "vrrpd", conf(instance(100, extra=weighted)), tmp)
        b = Node(lab, "lb2", "keepalived", conf(instance(95)), tmp)
        a.start()
        check(netlab.wait_until(a.holds, 8), "vrrpd never took the VIP")
        b.start()
        time.sleep(2)
        check(a.holds() and not b.holds(), "vrrpd (100) must hold the VIP")
        t0 = time.monotonic()
        lab.run("lb1", ["ip", "link", "set", "eth1p", "down"])
        check(netlab.wait_until(lambda: "Changing effective priority from 100 to 90" in a.output(), 2),
              "priority not lowered on eth1 down:\n" + a.output()[-1500:])
        check(netlab.wait_until(lambda: b.holds() and not a.holds(), 6, 0.01),
              "keepalived (95) did not take over from vrrpd (90):\n" + b.output()[-1500:])
        print(f"    eth1 down: keepalived took the VIP {(time.monotonic() - t0) * 1000:.0f} ms later "
              f"(it discards the lower advert and waits its Master_Down_Interval)")
        check("FAULT" not in a.output(), "a weighted interface must not fault the instance")
        t0 = time.monotonic()
        lab.run("lb1", ["ip", "link", "set", "eth1p", "up"])
        check(netlab.wait_until(lambda: a.holds() and not b.holds(), 4, 0.01),
              "vrrpd (100 again) did not preempt back:\n" + a.output()[-1500:])
        print(f"    eth1 up: vrrpd took the VIP back {(time.monotonic() - t0) * 1000:.0f} ms later")
        a.stop()
        # weight 0 (no weight): the interface going down means FAULT
        a.write(conf(instance(100, extra="    track_interface {\n        eth1\n    }\n")))
        check(netlab.wait_until(lambda: b.holds(), 3), "keepalived did not take over after stop")
        a.start()
        check(netlab.wait_until(lambda: a.holds() and not b.holds(), 8), "vrrpd did not preempt")
        lab.run("lb1", ["ip", "link", "set", "eth1p", "down"])
        check(netlab.wait_until(lambda: "Entering FAULT STATE" in a.output().split("Starting VRRP")[-1], 2),
              "no FAULT with a weight-0 tracked interface down:\n" + a.output()[-1500:])
        check(netlab.wait_until(lambda: b.holds() and not a.holds(), 2),
              "keepalived did not take over from the FAULT vrrpd (priority 0)")
        lab.run("lb1", ["ip", "link", "set", "eth1p", "up"])
        check(netlab.wait_until(lambda: a.holds() and not b.holds(), 8),
              "vrrpd did not come back from FAULT:\n" + a.output()[-1500:])


# -- 3. script security -----------------------------------------------------------

def test_insecure_script_is_disabled_as_keepalived_does():
    with netlab.Lab() as lab, tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        # a failing weight-0 script in a world-writable directory: were it
        # run, the instance would be in FAULT; keepalived disables (removes) it
        bad = script_file(tmp, "chk.sh", "exit 1", 0o755, sub="world")
        os.chmod(os.path.join(tmp, "world"), 0o777)
        scripts = (f'vrrp_script chk {{\n    script "{bad}"\n    interval 1\n}}\n'
                   'vrrp_script chk2 {\n    script "true"\n    interval 1\n}\n')
        track = "    track_script {\n        chk\n        chk2\n    }\n"
        glob = "    enable_script_security\n    script_user root\n"
        lab.add_host("lb1", "198.18.0.11")
        lab.add_host("lb2", "198.18.0.12")
        a = Node(lab, "lb1", "vrrpd", conf(scripts + instance(100, extra=track), glob), tmp)
        b = Node(lab, "lb2", "keepalived",
                 conf(scripts + instance(100, 52, "198.18.0.223", track), glob), tmp)
        a.start(); b.start()
        check(netlab.wait_until(lambda: a.holds() and b.holds("198.18.0.223"), 8),
              "both should be MASTER with the insecure script disabled:\n" + a.output() + "\n=====\n"
              + a.output()[-1500:] + b.output()[-1500:])
        lines = [f"Unsafe permissions found for script '{bad}' - disabling.",
                 "Disabling track script chk due to insecure"]
        resolved = re.search(r"WARNING - script `true` resolved by path search to `[^`]+`. "
                             r"Please specify full path.", b.output())
        check(resolved is not None, "keepalived did not resolve `true`:\n" + b.output()[-1500:])
        lines.append(resolved.group(0))
        for line in lines:
            check(line in b.output(), f"keepalived did not log: {line}")
            check(line in a.output(), f"vrrpd did not log keepalived's line: {line}\n"
                  + a.output()[-1500:])
        # never run, and no FAULT once chk2 has reported
        check("VRRP_Script(chk)" not in a.output() and "Script `chk`" not in a.output(),
              "the disabled script ran:\n" + a.output()[-2000:])
        check("FAULT" not in a.output().split("Script `chk2` now returning 0")[-1],
              "the disabled script faulted the instance:\n" + a.output()[-2000:])


# -- 4. GARP batches ----------------------------------------------------------------

CAPTURE = r"""
import json, socket, struct, sys, time
vip = socket.inet_aton(sys.argv[1]); end = time.monotonic() + float(sys.argv[2])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0806))
s.settimeout(0.2)
times = []
print("ready", flush=True)
while time.monotonic() < end:
    try:
        f = s.recv(2048)
    except socket.timeout:
        continue
    # ARP request, sender protocol address = target protocol address = the VIP
    if len(f) >= 42 and f[20:22] == b"\x00\x01" and f[28:32] == vip and f[38:42] == vip:
        times.append(time.monotonic())
print(json.dumps(times), flush=True)
"""


def garp_times(kind: str) -> list[float]:
    with netlab.Lab() as lab, tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        lab.add_host("lb1", "198.18.0.11")
        lab.add_host("lb2", "198.18.0.12")
        extra = ("    garp_master_delay 1\n    garp_master_repeat 5\n"
                 "    garp_master_refresh 2\n    garp_master_refresh_repeat 2\n")
        a = Node(lab, "lb1", kind, conf(instance(100, extra=extra)), tmp)
        cap = lab.spawn("lb2", [sys.executable, "-c", CAPTURE, VIP, "9"],
                        stdout=subprocess.PIPE, text=True)
        check(cap.stdout.readline().strip() == "ready", "capture did not start")
        a.start()
        check(netlab.wait_until(a.holds, 8), f"{kind} never took the VIP")
        out, _ = cap.communicate(timeout=15)
        return json.loads(out.strip().splitlines()[-1])


def batches(times: list[float]) -> tuple[int, int, int]:
    t0 = times[0]
    first = sum(1 for t in times if t - t0 < 0.3)
    second = sum(1 for t in times if 0.7 < t - t0 < 1.5)
    refresh = sum(1 for t in times if 1.7 < t - t0 < 2.6)
    return first, second, refresh


def test_garp_batches_after_becoming_master_match_keepalived():
    for kind in ("vrrpd", "keepalived"):
        times = garp_times(kind)
        check(len(times) > 0, f"{kind}: no gratuitous ARP captured")
        first, second, refresh = batches(times)
        offs = " ".join(f"{t - times[0]:.2f}" for t in times)
        print(f"    {kind}: {len(times)} GARPs at +s: {offs}")
        check((first, second) == (5, 5),
              f"{kind}: expected 5 at once and 5 after garp_master_delay 1, got {first}, {second}")
        check(refresh == 2, f"{kind}: expected 2 refresh GARPs ~2 s later, got {refresh}")


# -- 5. SIGUSR1 / SIGUSR2 -------------------------------------------------------------

def read_private_tmp(pid: int, name: str) -> str:
    r = subprocess.run(["nsenter", "-t", str(pid), "-m", "cat", f"/tmp/{name}"],
                       capture_output=True, text=True)
    return r.stdout


def stat_value(text: str, section: str, key: str) -> int:
    m = re.search(section + r":\n(?:    .*\n)*?    " + key + r": (\d+)", text)
    return int(m.group(1)) if m else -1


def test_usr1_data_and_usr2_stats_count_adverts_and_auth_failures():
    host_stats = os.path.exists("/tmp/keepalived.stats") and os.stat("/tmp/keepalived.stats")
    with netlab.Lab() as lab, tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        lab.add_host("lb1", "198.18.0.11")
        lab.add_host("lb2", "198.18.0.12")
        lab.add_host("lb3", "198.18.0.13")
        a = Node(lab, "lb1", "vrrpd", conf(instance(100)), tmp, private_tmp=True)
        b = Node(lab, "lb2", "keepalived", conf(instance(150)), tmp)
        c = Node(lab, "lb3", "keepalived", conf(instance(50, auth="wrong")), tmp)
        a.start()
        check(netlab.wait_until(a.holds, 8), "vrrpd never took the VIP")
        b.start()
        check(netlab.wait_until(lambda: b.holds() and not a.holds(), 5), "keepalived (150) did not take over")
        c.start()
        check(netlab.wait_until(lambda: "received an invalid passwd" in a.output(), 8),
              "vrrpd never saw the wrong password:\n" + a.output()[-1500:])
        pid = a.pid()
        os.kill(pid, signal.SIGUSR2)
        os.kill(pid, signal.SIGUSR1)
        check(netlab.wait_until(lambda: "Priority Zero" in read_private_tmp(pid, "keepalived.stats")
                                and "VRRP Instance" in read_private_tmp(pid, "keepalived.data"), 3),
              "no dump files in vrrpd's /tmp")
        stats = read_private_tmp(pid, "keepalived.stats")
        data = read_private_tmp(pid, "keepalived.data")
        print("    " + stats.replace("\n", "\n    ").rstrip())
        check(stat_value(stats, "  Advertisements", "Received") > 0, "no adverts received")
        check(stat_value(stats, "  Advertisements", "Sent") > 0, "no adverts sent")
        check(stat_value(stats, "  Authentication Errors", "Failure") > 0, "no auth failure counted")
        check(re.search(r"Became master: [1-9]", stats) and re.search(r"Released master: [1-9]", stats),
              "master transitions not counted")
        check("VRRP Instance = VI_1" in data and "State = BACKUP" in data, "data dump:\n" + data)
        check("Printing VRRP stats for process" in a.output(), "no log line for SIGUSR2")
    now = os.path.exists("/tmp/keepalived.stats") and os.stat("/tmp/keepalived.stats")
    check(now == host_stats, "the host's /tmp/keepalived.stats was touched")


if __name__ == "__main__":
    sys.exit(run_tests(globals()))
