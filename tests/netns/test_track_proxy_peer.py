"""track_proxy against a hostile peer at the socket: one vrrpd host in a
network namespace (198.18.0.0/15), tracking a fake proxy (a Python unix-socket
server) with weight 0, so a failed tracker means FAULT and no VIP. Root only;
every process is stopped by pid and the namespace is deleted.

  - a peer that floods the watch connection (valid `health ok` lines, as fast
    as it can) is dropped and logged, the tracker fails (VIP released), vrrpd's
    memory stays small and SIGTERM still ends it at once;
  - a peer that floods its answer to `set vrrp`: the same;
  - a peer running as another user (nobody) is refused (SO_PEERCRED), even
    though the socket file and its directory are root's;
  - a socket file owned by another user is refused.

Every flood is bounded: at most 200 MiB per fake proxy process, and it stops
when vrrpd closes the connection.

Prints PASS/FAIL per test and "N passed, N failed".
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from vrrp_nodes import check, netlab, run_tests  # noqa: E402

VRRPD = os.environ.get("VRRPD") or os.path.join(
    os.environ.get("SRC") or os.path.abspath(os.path.join(HERE, "..", "..")), "build", "vrrpd",
    "vrrpd")
VIP = "198.18.0.224"
NOBODY = 65534

# argv: socket path, mode file, run-as uid (-1: stay root). The mode file
# says how to behave: ok, flood (the watch stream), flood-answer (the answer
# to `set vrrp`). The socket is bound as root, then the process may become
# `uid` before listen(): SO_PEERCRED reports the listener's credentials.
FAKE = r'''
import os, socket, sys, threading, time
path, modefile, uid = sys.argv[1], sys.argv[2], int(sys.argv[3])
LIMIT = 200 << 20          # bytes flooded at most, over all connections
sent = [0]
lock = threading.Lock()

def mode():
    try:
        return open(modefile).read().strip()
    except OSError:
        return "ok"

LINE = b"health ok backend=app active=1/1 backup=0/0 event=heartbeat\n"
BLOCK = LINE * (1048576 // len(LINE))

def flood(c):
    while True:
        with lock:
            if sent[0] >= LIMIT:
                return
            sent[0] += len(BLOCK)
        c.sendall(BLOCK)   # raises once vrrpd closed the connection

def serve(c):
    f = c.makefile("rb")
    try:
        first = f.readline().decode().strip()
        if first.startswith("watch health"):
            c.sendall(LINE.replace(b"heartbeat\n", b"initial\n"))
            last = time.monotonic()
            for _ in range(60000):   # at most 10 min at 10 ms
                if mode() == "flood":
                    flood(c)
                    return
                time.sleep(0.01)
                if time.monotonic() - last >= 0.1:
                    c.sendall(LINE)
                    last = time.monotonic()
            return
        if first.startswith("set vrrp") and mode() == "flood-answer":
            flood(c)
            return
        c.sendall(b"\n")
    except OSError:
        pass
    finally:
        c.close()

s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
if uid >= 0:
    os.setgid(uid)
    os.setuid(uid)
s.listen(16)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
'''


def config(sock: str) -> str:
    return f"""global_defs {{
    router_id lab
}}
track_proxy chk_proxy {{
    socket {sock}
    weight 0
    heartbeat 100ms
}}
vrrp_instance VI_1 {{
    state MASTER
    interface eth0
    virtual_router_id 62
    priority 200
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
    def __init__(self, lab: netlab.Lab, tmp: str):
        lab.add_host("lb1", "198.18.0.11")
        self.lab, self.tmp = lab, tmp
        self.sock = os.path.join(tmp, "admin.sock")
        self.mode = os.path.join(tmp, "mode")
        self.fake = os.path.join(tmp, "fake.py")
        with open(self.fake, "w") as f:
            f.write(FAKE)
        self.cfg = os.path.join(tmp, "lb1.conf")
        with open(self.cfg, "w") as f:
            f.write(config(self.sock))
        self.log = os.path.join(tmp, "lb1.log")
        self.vrrpd: subprocess.Popen | None = None

    def set_mode(self, m: str) -> None:
        with open(self.mode, "w") as f:
            f.write(m)

    def start_fake(self, uid: int = -1) -> subprocess.Popen:
        p = self.lab.spawn("lb1", [sys.executable, self.fake, self.sock, self.mode, str(uid)])
        check(netlab.wait_until(lambda: os.path.exists(self.sock), 5), "fake proxy did not start")
        return p

    def start_vrrpd(self) -> None:
        out = open(self.log, "a")
        self.vrrpd = self.lab.spawn("lb1", [VRRPD, "-n", "-l", "-D", "-f", self.cfg,
                                            "-p", os.path.join(self.tmp, "lb1.pid")],
                                    stdout=out, stderr=subprocess.STDOUT)

    def holds(self) -> bool:
        return self.lab.holds("lb1", VIP)

    def output(self) -> str:
        with open(self.log) as f:
            return f.read()

    def rss_kib(self) -> int:
        with open(f"/proc/{self.vrrpd.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def sigterm_seconds(self) -> float:
        t0 = time.monotonic()
        self.vrrpd.send_signal(signal.SIGTERM)
        try:
            self.vrrpd.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        return time.monotonic() - t0


def tmpdir() -> tempfile.TemporaryDirectory:
    # /var/tmp is root's and sticky; the test's directory is root's, 0700.
    return tempfile.TemporaryDirectory(dir="/var/tmp")


def healthy_master(lab: netlab.Lab, tmp: str, mode: str = "ok") -> Host:
    h = Host(lab, tmp)
    h.set_mode(mode)
    h.start_fake()
    h.start_vrrpd()
    check(netlab.wait_until(h.holds, 8), "never MASTER on a healthy proxy:\n" + h.output()[-1500:])
    return h


def assert_dropped_small_and_stoppable(h: Host, reason: str) -> None:
    check(netlab.wait_until(lambda: not h.holds(), 5),
          "the VIP stayed on a flooding proxy:\n" + h.output()[-1500:])
    check(netlab.wait_until(lambda: reason in h.output(), 3),
          f"no '{reason}' logged:\n" + h.output()[-1500:])
    check("refusing the peer" in h.output(), "the drop was not logged:\n" + h.output()[-1500:])
    rss = []
    for _ in range(15):  # 3 s while the peer keeps flooding each reconnection
        rss.append(h.rss_kib())
        check(not h.holds(), "the VIP came back while the peer misbehaves")
        time.sleep(0.2)
    print(f"    vrrpd RSS during the flood: max {max(rss) // 1024} MiB")
    check(max(rss) < 32 * 1024, f"vrrpd grew to {max(rss) // 1024} MiB")
    secs = h.sigterm_seconds()
    print(f"    SIGTERM during the flood ended vrrpd in {secs:.2f} s")
    check(h.vrrpd.poll() is not None and secs < 1.0, f"SIGTERM took {secs:.2f} s")


def test_a_flooding_watch_peer_is_dropped_and_counts_as_failed() -> None:
    with netlab.Lab() as lab, tmpdir() as tmp:
        h = healthy_master(lab, tmp)
        h.set_mode("flood")
        assert_dropped_small_and_stoppable(h, "flood")


def test_a_flooding_answer_to_set_vrrp_is_dropped_and_counts_as_failed() -> None:
    with netlab.Lab() as lab, tmpdir() as tmp:
        h = Host(lab, tmp)
        h.set_mode("flood-answer")
        h.start_fake()
        h.start_vrrpd()
        check(netlab.wait_until(lambda: "answer to `set vrrp` longer" in h.output(), 8),
              "the flooded answer was not refused:\n" + h.output()[-1500:])
        assert_dropped_small_and_stoppable(h, "answer to `set vrrp` longer")


def test_a_peer_running_as_another_user_is_refused() -> None:
    with netlab.Lab() as lab, tmpdir() as tmp:
        h = Host(lab, tmp)
        h.set_mode("ok")
        h.start_fake(uid=NOBODY)  # bound by root in root's 0700 directory, listens as nobody
        st = os.stat(h.sock)
        check(st.st_uid == 0, "the socket file must be root's here")
        h.start_vrrpd()
        check(netlab.wait_until(lambda: "runs as uid 65534" in h.output(), 5),
              "the peer's uid was not refused:\n" + h.output()[-1500:])
        check(netlab.wait_until(lambda: "Entering FAULT STATE" in h.output(), 5),
              "no FAULT:\n" + h.output()[-1500:])
        time.sleep(4)  # longer than Master_Down_Interval: a trusted proxy would be MASTER
        check(not h.holds(), "vrrpd took the VIP on an untrusted peer")
        check(h.output().count("refusing the peer") == 1, "the refusal was logged more than once")


def test_a_socket_owned_by_another_user_is_refused() -> None:
    with netlab.Lab() as lab, tmpdir() as tmp:
        h = Host(lab, tmp)
        h.set_mode("ok")
        h.start_fake()
        os.chown(h.sock, NOBODY, NOBODY)
        h.start_vrrpd()
        check(netlab.wait_until(lambda: "is owned by uid 65534" in h.output(), 5),
              "the socket's owner was not refused:\n" + h.output()[-1500:])
        time.sleep(4)
        check(not h.holds(), "vrrpd took the VIP on an untrusted socket")
        # Given back to root, it is trusted again (reconnection within 2 s).
        os.chown(h.sock, 0, 0)
        check(netlab.wait_until(h.holds, 10), "not MASTER once the socket was root's again:\n"
              + h.output()[-1500:])


if __name__ == "__main__":
    sys.exit(run_tests(globals()))
