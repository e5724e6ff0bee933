"""Network-namespace lab builder (Python 3 standard library + iproute2).

Builds hosts as network namespaces attached to one Ethernet segment (a bridge
living in its own "switch" namespace), addressed in 198.18.0.0/15 only. Used
by the netns tests and by the two-host lab. Every process started through a
Lab is tracked by pid and stopped by pid; cleanup() removes every namespace
the Lab created. Must run as root.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time

LAB_NET = "198.18.0"


def _run(cmd: list[str], check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=check, capture_output=True, text=True)


class Lab:
    def __init__(self, tag: str | None = None):
        # Namespace and interface names carry a per-run tag so parallel runs
        # (and leftovers of a crashed run) never collide.
        self.tag = tag or f"{os.getpid() % 100000}"
        self.switch = f"sw{self.tag}"
        self.hosts: dict[str, dict] = {}
        self.procs: list[subprocess.Popen] = []
        self.cleanups: list = []  # extra callables run by cleanup()
        self._made: list[str] = []
        _run(["ip", "netns", "add", self.switch])
        self._made.append(self.switch)
        self.sw(["ip", "link", "set", "lo", "up"])
        self.sw(["ip", "link", "add", "br0", "type", "bridge"])
        # No STP, no forwarding delay: ports forward at once.
        self.sw(["ip", "link", "set", "br0", "type", "bridge", "stp_state", "0", "forward_delay", "0"])
        self.sw(["ip", "link", "set", "br0", "up"])

    # -- topology -----------------------------------------------------------
    def ns(self, host: str) -> str:
        return self.hosts[host]["ns"]

    def add_host(self, host: str, addr: str, prefix: int = 24) -> None:
        """A namespace with eth0 = `addr`/`prefix` on the segment."""
        assert addr.startswith("198.18.") or addr.startswith("198.19."), addr
        ns = f"{host}-{self.tag}"
        n = len(self.hosts)
        port = f"p{n}-{self.tag}"[:15]
        tmp = f"h{n}-{self.tag}"[:15]
        _run(["ip", "netns", "add", ns])
        self._made.append(ns)
        _run(["ip", "link", "add", tmp, "type", "veth", "peer", "name", port])
        _run(["ip", "link", "set", tmp, "netns", ns])
        _run(["ip", "link", "set", port, "netns", self.switch])
        self.exec(ns, ["ip", "link", "set", tmp, "name", "eth0"])
        self.exec(ns, ["ip", "link", "set", "lo", "up"])
        self.exec(ns, ["ip", "addr", "add", f"{addr}/{prefix}", "dev", "eth0"])
        self.exec(ns, ["ip", "link", "set", "eth0", "up"])
        self.sw(["ip", "link", "set", port, "master", "br0"])
        self.sw(["ip", "link", "set", port, "up"])
        self.hosts[host] = {"ns": ns, "addr": addr, "port": port}

    def cut(self, host: str) -> None:
        """Takes the host off the segment; its own link stays up (carrier on),
        as when a switch port or cable further away fails."""
        self.sw(["ip", "link", "set", self.hosts[host]["port"], "nomaster"])

    def restore(self, host: str) -> None:
        self.sw(["ip", "link", "set", self.hosts[host]["port"], "master", "br0"])

    def link_down(self, host: str) -> None:
        """The host's own interface loses its link (carrier off)."""
        self.sw(["ip", "link", "set", self.hosts[host]["port"], "down"])

    def link_up(self, host: str) -> None:
        self.sw(["ip", "link", "set", self.hosts[host]["port"], "up"])

    # -- commands -----------------------------------------------------------
    def sw(self, cmd: list[str]) -> subprocess.CompletedProcess:
        return _run(["ip", "netns", "exec", self.switch] + cmd)

    def exec(self, ns: str, cmd: list[str], check: bool = True) -> subprocess.CompletedProcess:
        return _run(["ip", "netns", "exec", ns] + cmd, check=check)

    def run(self, host: str, cmd: list[str], check: bool = True) -> subprocess.CompletedProcess:
        return self.exec(self.ns(host), cmd, check=check)

    def spawn(self, host: str, cmd: list[str], **kw) -> subprocess.Popen:
        """Starts a process in the host's namespace, tracked by pid."""
        p = subprocess.Popen(["ip", "netns", "exec", self.ns(host)] + cmd, **kw)
        self.procs.append(p)
        return p

    def addresses(self, host: str) -> list[str]:
        out = self.run(host, ["ip", "-o", "-4", "addr", "show", "dev", "eth0"]).stdout
        return [line.split()[3].split("/")[0] for line in out.splitlines()]

    def holds(self, host: str, ip: str) -> bool:
        return ip in self.addresses(host)

    # -- teardown -----------------------------------------------------------
    def stop(self, p: subprocess.Popen, sig: int = signal.SIGTERM, wait: float = 3.0) -> None:
        if p.poll() is None:
            try:
                p.send_signal(sig)
            except ProcessLookupError:
                pass
            try:
                p.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=5)

    def cleanup(self) -> None:
        for p in reversed(self.procs):
            try:
                self.stop(p)
            except Exception:  # keep tearing down
                pass
        for ns in reversed(self._made):
            _run(["ip", "netns", "del", ns], check=False)
        self._made.clear()
        for fn in reversed(self.cleanups):
            try:
                fn()
            except Exception:  # keep tearing down
                pass
        self.cleanups.clear()

    def __enter__(self) -> "Lab":
        return self

    def __exit__(self, *exc) -> None:
        self.cleanup()


def wait_until(pred, timeout: float, step: float = 0.02) -> bool:
    """Polls `pred` until true or `timeout` seconds pass (bounded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    return bool(pred())
