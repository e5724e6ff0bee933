"""track_proxy end to end: two vrrpd hosts, each tracking a proxy's admin
socket, on network namespaces addressed in 198.18.0.0/15. Root only; every
process is stopped by pid and the namespaces are deleted.

The proxy is the real proxyd ($PROXYD, or build/proxyd/proxyd) serving its
stats socket; PROXYD_REAL=0 uses instead a small fake speaking proxyd's
documented protocol (docs/runtime-api.md: `watch health`, `set vrrp`), to
test vrrpd's side alone.

Measured: the VIP moving to the BACKUP after the MASTER's proxy is killed
(SIGKILL: the socket closes; bound 300 ms), after it is SIGSTOPped (hung;
bound heartbeat x fall + 300 ms), and after its backend goes down.

Prints PASS/FAIL per test, the measured figures, and "N passed, N failed".
"""

from __future__ import annotations

import os
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
PROXYD = os.environ.get("PROXYD") or os.path.join(SRC, "build", "proxyd", "proxyd")
REAL = os.environ.get("PROXYD_REAL", "1") == "1"
VIP = "198.18.0.223"
HEARTBEAT_MS = 200
FALL = 1

FAKE_PROXY = r'''
import os, socket, sys, threading, time
path, state, log, level = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
lock = threading.Lock()

def healthy():
    try:
        return open(state).read().strip() != "fail"
    except OSError:
        return True

def line(ok, event):
    n = 1 if ok else 0
    return f"health {'ok' if ok else 'fail'} backend=app active={n}/1 backup=0/0 event={event}\n".encode()

def serve(c):
    f = c.makefile("rb")
    try:
        first = f.readline().decode().strip()
        if first.startswith("watch health"):
            w = first.split()
            hb = int(w[w.index("heartbeat") + 1]) / 1000 if "heartbeat" in w else 1.0
            ok = healthy()
            c.sendall(line(ok, "initial"))
            last = time.monotonic()
            while True:
                time.sleep(0.01)
                now_ok = healthy()
                if now_ok != ok:
                    ok = now_ok
                    c.sendall(line(ok, "change"))
                    last = time.monotonic()
                elif time.monotonic() - last >= hb:
                    c.sendall(line(ok, "heartbeat"))
                    last = time.monotonic()
        out = b""
        cmd = first
        while cmd:
            if cmd.startswith("set vrrp"):
                with lock, open(log, "a") as lf:
                    lf.write(cmd + "\n")
                out += b"Permission denied\n\n" if level == "user" else b"\n"
            else:
                out += b"Unknown command.\n\n"
            cmd = f.readline().decode().strip()
        c.sendall(out)
    except OSError:
        pass
    finally:
        c.close()

try:
    os.unlink(path)
except OSError:
    pass
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(16)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
'''


def check(cond: bool, msg: str) -> None:
    if not cond:
        raise AssertionError(msg)


def config(prio: int, sock: str, weight: int = 0) -> str:
    return f"""global_defs {{
    router_id lab
}}
track_proxy chk_proxy {{
    socket {sock}
    backend app
    weight {weight}
    fall {FALL}
    rise 1
    heartbeat {HEARTBEAT_MS}ms
}}
vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id 61
    priority {prio}
    advert_int 1
    virtual_ipaddress {{
        {VIP}/24 dev eth0
    }}
    track_proxy {{
        chk_proxy
    }}
}}
"""


class Host:
    def __init__(self, lab: netlab.Lab, name: str, addr: str, prio: int, tmp: str,
                 level: str = "operator", weight: int = 0):
        lab.add_host(name, addr)
        self.lab, self.name, self.tmp, self.level = lab, name, tmp, level
        self.sock = os.path.join(tmp, f"{name}.sock")
        self.state = os.path.join(tmp, f"{name}.state")
        self.reports = os.path.join(tmp, f"{name}.reports")
        self.fake = os.path.join(tmp, "fake_proxy.py")
        with open(self.fake, "w") as f:
            f.write(FAKE_PROXY)
        self.cfg = os.path.join(tmp, f"{name}.conf")
        with open(self.cfg, "w") as f:
            f.write(config(prio, self.sock, weight))
        self.log = os.path.join(tmp, f"{name}.log")
        self.proxy: subprocess.Popen | None = None
        self.vrrpd: subprocess.Popen | None = None

    def start_proxy(self) -> None:
        if REAL:
            self.start_real_proxy()
            return
        self.proxy = self.lab.spawn(self.name, [sys.executable, self.fake, self.sock, self.state,
                                                self.reports, self.level])
        check(netlab.wait_until(lambda: os.path.exists(self.sock), 5), "fake proxy did not start")

    # -- the real proxyd (PROXYD_REAL=1) ------------------------------------
    # Its backend 'app' has one server, a TCP listener in the host's namespace
    # (checked every 100 ms); set_backend(False) kills that listener.
    server: subprocess.Popen | None = None

    def set_backend(self, up: bool) -> None:
        if not REAL:
            with open(self.state, "w") as f:
                f.write("ok" if up else "fail")
            return
        if up and (self.server is None or self.server.poll() is not None):
            self.server = self.lab.spawn(self.name, [sys.executable, "-c", (
                "import socket\ns=socket.socket()\n"
                "s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n"
                "s.bind(('127.0.0.1',9000))\ns.listen(64)\n"
                "while True:\n    s.accept()[0].close()\n")])
        elif not up and self.server is not None:
            self.server.kill()
            self.server.wait(timeout=5)

    def start_real_proxy(self) -> None:
        self.set_backend(True)
        cfg = os.path.join(self.tmp, f"{self.name}-proxyd.cfg")
        with open(cfg, "w") as f:
            f.write(f"""global
    stats socket {self.sock} level {self.level}
defaults
    mode tcp
    timeout connect 1s
    timeout client 30s
    timeout server 30s
    timeout check 1s
frontend fe
    bind 127.0.0.1:8080
    default_backend app
backend app
    server web1 127.0.0.1:9000 check inter 100ms fall 1 rise 1
""")
        out = open(os.path.join(self.tmp, f"{self.name}-proxyd.log"), "a")
        self.proxy = self.lab.spawn(self.name, [PROXYD, "-db", "-f", cfg],
                                    stdout=out, stderr=subprocess.STDOUT)
        check(netlab.wait_until(lambda: os.path.exists(self.sock), 5),
              "proxyd did not create its stats socket")

    def reported(self) -> str:
        if REAL:  # proxyd shows them in `show info` (Vrrp_VI_1: MASTER 254)
            try:
                c = __import__("socket").socket(__import__("socket").AF_UNIX)
                c.settimeout(1)
                c.connect(self.sock)
                c.sendall(b"show info\n")
                data = b""
                while True:
                    chunk = c.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                c.close()
                return "\n".join("set vrrp " + l[len("Vrrp_"):].replace(":", "")
                                 for l in data.decode().splitlines() if l.startswith("Vrrp_"))
            except OSError:
                return ""
        return self._fake_reported()

    def start_vrrpd(self) -> None:
        out = open(self.log, "a")
        self.vrrpd = self.lab.spawn(self.name, [VRRPD, "-n", "-l", "-D", "-f", self.cfg,
                                                "-p", os.path.join(self.tmp, f"{self.name}.pid")],
                                    stdout=out, stderr=subprocess.STDOUT)

    def holds(self) -> bool:
        return self.lab.holds(self.name, VIP)

    def output(self) -> str:
        with open(self.log) as f:
            return f.read()

    def _fake_reported(self) -> str:
        try:
            with open(self.reports) as f:
                return f.read()
        except OSError:
            return ""


def pair(lab: netlab.Lab, tmp: str, level: str = "operator",
         weight: int = 0) -> tuple[Host, Host]:
    """lb1 (254) MASTER, lb2 (250) BACKUP, both healthy; weight 0 by default."""
    base = 254 - weight if weight > 0 else 254
    a = Host(lab, "lb1", "198.18.0.11", base, tmp, level, weight)
    b = Host(lab, "lb2", "198.18.0.12", 250 - weight if weight > 0 else 250, tmp, level, weight)
    a.start_proxy()
    b.start_proxy()
    a.start_vrrpd()
    check(netlab.wait_until(a.holds, 8), "lb1 never took the VIP:\n" + a.output()[-2000:])
    b.start_vrrpd()
    check(netlab.wait_until(lambda: "Entering BACKUP STATE" in b.output(), 5),
          "lb2 never became BACKUP:\n" + b.output()[-2000:])
    time.sleep(1.2)
    check(a.holds() and not b.holds(), "lb1 must hold the VIP")
    return a, b


def takeover(a: Host, b: Host, timeout: float) -> float:
    t0 = time.monotonic()
    check(netlab.wait_until(lambda: b.holds() and not a.holds(), timeout, 0.002),
          "lb2 never took over:\n" + a.output()[-2000:] + "\n---\n" + b.output()[-2000:])
    return (time.monotonic() - t0) * 1000


def test_proxy_killed_moves_vip() -> None:
    with netlab.Lab() as lab, tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        a, b = pair(lab, tmp)
        check(netlab.wait_until(lambda: "set vrrp VI_1 MASTER 254" in a.reported(), 3),
              "lb1 did not report MASTER:\n" + a.reported())
        check(netlab.wait_until(lambda: "set vrrp VI_1 BACKUP 250" in b.reported(), 3),
              "lb2 did not report BACKUP:\n" + b.reported())
        a.proxy.kill()  # SIGKILL: the socket closes
        ms = takeover(a, b, 3)
        print(f"    proxy SIGKILL -> VIP on the BACKUP: {ms:.0f} ms (bound 300 ms)")
        check(ms < 300, f"took {ms:.0f} ms")
        check("Track proxy chk_proxy failed" in a.output(), "no failure logged")
        check(netlab.wait_until(lambda: "set vrrp VI_1 MASTER 250" in b.reported(), 3),
              "lb2 did not report MASTER")
        # The proxy comes back: lb1 reconnects (backoff <= 2 s) and takes over again.
        a.proxy.wait(timeout=5)
        if os.path.exists(a.sock):
            os.unlink(a.sock)
        a.start_proxy()
        check(netlab.wait_until(lambda: a.holds() and not b.holds(), 10),
              "lb1 did not take the VIP back:\n" + a.output()[-2000:])
        check("Track proxy chk_proxy now OK" in a.output(), "no recovery logged")


def test_negative_weight_flips_the_election() -> None:
    with netlab.Lab() as lab, tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        a, b = pair(lab, tmp, weight=-10)  # 254 - 10 = 244 < 250
        a.proxy.kill()
        ms = takeover(a, b, 5)
        print(f"    proxy SIGKILL, weight -10 -> VIP on the BACKUP: {ms:.0f} ms")
        check(ms < 300, f"took {ms:.0f} ms")
        check("from 254 to 244" in a.output(), "priority not lowered:\n" + a.output()[-1500:])


def test_proxy_hung_moves_vip() -> None:
    with netlab.Lab() as lab, tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        a, b = pair(lab, tmp)
        os.kill(a.proxy.pid, signal.SIGSTOP)
        try:
            ms = takeover(a, b, 5)
        finally:
            os.kill(a.proxy.pid, signal.SIGCONT)
        bound = HEARTBEAT_MS * FALL + 300
        print(f"    proxy SIGSTOP -> VIP on the BACKUP: {ms:.0f} ms (bound {bound} ms)")
        check(ms < bound, f"took {ms:.0f} ms")
        check("no line for" in a.output(), "the hang was not the reason:\n" + a.output()[-1500:])
        # SIGCONT: lines flow again on the same connection.
        check(netlab.wait_until(lambda: a.holds() and not b.holds(), 10),
              "lb1 did not take the VIP back after SIGCONT:\n" + a.output()[-2000:])


def test_backend_down_moves_vip() -> None:
    with netlab.Lab() as lab, tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        a, b = pair(lab, tmp)
        a.set_backend(False)
        ms = takeover(a, b, 3)
        print(f"    backend down -> VIP on the BACKUP: {ms:.0f} ms"
              + (" (includes proxyd's check: inter 100ms fall 1)" if REAL else ""))
        check(ms < (600 if REAL else 300), f"took {ms:.0f} ms")
        check("active=0/1" in a.output(), "reason not logged")
        a.set_backend(True)
        check(netlab.wait_until(lambda: a.holds() and not b.holds(), 10),
              "lb1 did not take the VIP back")


def test_no_socket_is_fault_and_permission_logged_once() -> None:
    with netlab.Lab() as lab, tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        a = Host(lab, "lb1", "198.18.0.11", 254, tmp, level="user")
        a.start_vrrpd()  # no proxy yet
        check(netlab.wait_until(lambda: "Entering FAULT STATE" in a.output(), 5),
              "no FAULT without the socket:\n" + a.output()[-1500:])
        time.sleep(1.5)
        check(not a.holds(), "VIP held without a proxy")
        a.start_proxy()
        check(netlab.wait_until(a.holds, 10), "no MASTER once the proxy came:\n" + a.output()[-1500:])
        check(netlab.wait_until(lambda: "Permission denied" in a.output(), 3),
              "Permission denied not logged")
        time.sleep(0.5)
        check(a.output().count("Permission denied") == 1, "Permission denied logged more than once")


def test_proxyd_reload_does_not_move_the_vip() -> None:
    if not REAL:
        print("    (skipped: needs the real proxyd)")
        return
    with netlab.Lab() as lab, tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        a, b = pair(lab, tmp)
        check(netlab.wait_until(lambda: "set vrrp VI_1 MASTER 254" in a.reported(), 3),
              "lb1 did not report MASTER:\n" + a.reported())
        cfg = os.path.join(tmp, "lb1-proxyd.cfg")
        with open(cfg) as f:
            text = f.read()
        with open(cfg, "w") as f:
            f.write(text.replace("timeout client 30s", "timeout client 31s"))
        failures = a.output().count("Track proxy chk_proxy failed")
        lost = 0
        for i in range(150):  # 1.5 s of samples, every 10 ms
            if i == 10:
                os.kill(a.proxy.pid, signal.SIGUSR2)
            if not a.holds() or b.holds():
                lost += 1
            time.sleep(0.01)
        log = open(os.path.join(tmp, "lb1-proxyd.log")).read()
        check("Reloaded the configuration" in log, "proxyd did not reload:\n" + log[-1500:])
        check(lost == 0, f"the VIP left lb1 (or lb2 held it) in {lost} samples during the reload")
        check(a.output().count("Track proxy chk_proxy failed") == failures,
              "vrrpd saw the reload as a proxy failure:\n" + a.output()[-1500:])
        check("set vrrp VI_1 MASTER 254" in a.reported(),
              "the reported VRRP state was lost by the reload:\n" + a.reported())


def test_reload_keeps_tracker_and_instance() -> None:
    with netlab.Lab() as lab, tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        a = Host(lab, "lb1", "198.18.0.11", 254, tmp)
        a.start_proxy()
        a.start_vrrpd()
        check(netlab.wait_until(a.holds, 8), "lb1 never took the VIP:\n" + a.output()[-2000:])
        before = a.output().count("Track proxy chk_proxy now OK")
        os.kill(a.vrrpd.pid, signal.SIGHUP)
        check(netlab.wait_until(lambda: "Reload complete" in a.output(), 5), "no reload")
        time.sleep(0.5)
        check(a.holds() and "restarting" not in a.output(), "unchanged instance restarted")
        check(a.output().count("Track proxy chk_proxy now OK") == before,
              "unchanged tracker reconnected")
        with open(a.cfg) as f:
            text = f.read()
        with open(a.cfg, "w") as f:
            f.write(text.replace("heartbeat 200ms", "heartbeat 300ms"))
        os.kill(a.vrrpd.pid, signal.SIGHUP)
        check(netlab.wait_until(lambda: a.output().count("Reload complete") == 2, 5), "no reload")
        check("configuration changed - restarting" in a.output(), "changed block did not restart")
        check(netlab.wait_until(a.holds, 8), "lb1 lost the VIP after the reload")
        check(netlab.wait_until(
            lambda: a.output().count("Track proxy chk_proxy now OK") == before + 1, 3),
            "new tracker did not connect:\n" + a.output()[-1500:])


def main() -> int:
    if os.geteuid() != 0:
        print("netns tests need root")
        print("0 passed, 1 failed")
        return 1
    tests = [(n, f) for n, f in globals().items() if n.startswith("test_") and callable(f)]
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
