#!/usr/bin/env python3
"""hatop (Debian's package: an ncurses monitor for HAProxy's stats socket)
against the proxy's `stats socket`, driven in a detached tmux session.

hatop speaks the CLI's interactive mode (`prompt`, `set timeout cli`, `show
info`, `show stat`, then `disable server` / `enable server` from its F10 /
F9 hotkeys), and parses `show info` (Name, Version, Release_date, Nbproc,
Process_num, Pid, Uptime, Maxconn, CurrConns, Maxpipes, PipesUsed, Tasks,
Run_queue, node) and the first 50 `show stat` CSV fields by position.

Written against HAProxy 2.6 first (PROXYD=/usr/sbin/haproxy); the same test
runs against proxyd. Each tmux server has its own socket name (-L) and is
killed by it at the end (and by pid if it is still there)."""

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import admin_command as admin  # noqa: E402
from harness import TCP_DEFAULTS, Backend, Proxy, Skip, check, free_port, run_tests, wait_until  # noqa: E402

HATOP = shutil.which("hatop")
TMUX = shutil.which("tmux")
REVERSE = "\x1b[7m"  # how hatop's cursor line (and its footer) is drawn


def stat_status(path: str, px: str, sv: str) -> str:
    for line in admin(path, "show stat").splitlines():
        f = line.split(",")
        if len(f) > 17 and f[0] == px and f[1] == sv:
            return f[17]
    return ""


class Tmux:
    """A detached tmux server of its own (-L NAME, no user config)."""

    def __init__(self, cmd: str, cols: int = 200, rows: int = 50):
        self.name = f"proxyd-hatop-{os.getpid()}"
        self.env = dict(os.environ, TERM="xterm")
        self.pid: int | None = None
        self.run("new-session", "-d", "-x", str(cols), "-y", str(rows), cmd)
        self.pid = int(self.run("display-message", "-p", "#{pid}").strip())

    def run(self, *args: str) -> str:
        r = subprocess.run([TMUX, "-L", self.name, "-f", "/dev/null", *args], env=self.env,
                           capture_output=True, text=True, timeout=5)
        if r.returncode != 0:
            raise RuntimeError(f"tmux {' '.join(args)}: {r.stderr.strip()}")
        return r.stdout

    def screen(self, escapes: bool = False) -> str:
        return self.run("capture-pane", "-p", *(["-e"] if escapes else []), "-t", "0")

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", "0", *keys)

    def kill(self) -> None:
        with contextlib.suppress(Exception):
            self.run("kill-server")
        if self.pid and wait_until(lambda: not os.path.exists(f"/proc/{self.pid}"), 3.0) is False:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)


def cursor_line(t: Tmux) -> str:
    """The text of hatop's selected line (reverse video), the footer aside."""
    for line in t.screen(escapes=True).splitlines():
        if REVERSE in line:
            text = re.sub(r"\x1b\[[0-9;]*m", "", line)
            if not text.lstrip().startswith("1-STATUS"):
                return text.strip()
    return ""


def row(screen: str, name: str) -> list[str]:
    """The columns of the stat row whose first column is `name`."""
    for line in screen.splitlines():
        w = line.split()
        if w and w[0] == name:
            return w
    return []


@contextlib.contextmanager
def hatop_on_proxy():
    if not HATOP or not TMUX:
        raise Skip("hatop or tmux not installed (deploy/setup.sh installs both)")
    d = tempfile.mkdtemp(prefix="proxyd-hatop-")
    sock = os.path.join(d, "admin.sock")
    port = free_port()
    t = None
    with Backend("web1") as w1, Backend("web2") as w2:
        cfg = (f"global\n    stats socket {sock} mode 600 level admin\n"
               + TCP_DEFAULTS
               + f"frontend fe_main\n    bind 127.0.0.1:{port}\n    default_backend be_app\n"
               + "backend be_app\n    balance roundrobin\n"
               + f"    server web1 127.0.0.1:{w1.port} check inter 100ms\n"
               + f"    server web2 127.0.0.1:{w2.port} check inter 100ms\n"
               + f"    server web3 127.0.0.1:{free_port()} check inter 100ms\n")
        p = Proxy(cfg, wait_ports=[port]).start()
        try:
            check(wait_until(lambda: os.path.exists(sock), 3.0), "the stats socket did not appear")
            check(wait_until(lambda: stat_status(sock, "be_app", "web1").startswith("UP")
                             and stat_status(sock, "be_app", "web3").startswith("DOWN"), 5.0),
                  "the checks did not settle (web1 UP, web3 DOWN)")
            # -i 1: hatop refreshes every second.
            t = Tmux(f"exec {HATOP} -s {sock} -i 1")
            yield p, sock, t
        finally:
            if t:
                t.kill()
            p.stop()
            shutil.rmtree(d, ignore_errors=True)


def wait_screen(t: Tmux, pred, timeout: float) -> str:
    last = [""]

    def probe() -> bool:
        last[0] = t.screen()
        return bool(pred(last[0]))
    wait_until(probe, timeout, step=0.1)
    return last[0]


def test_hatop_shows_proxies_servers_and_status():
    with hatop_on_proxy() as (p, sock, t):
        scr = wait_screen(t, lambda s: row(s, "web3"), 5.0)
        check(row(scr, "web3"), f"hatop shows no stats:\n{scr}")
        check(">>> fe_main" in scr and ">>> be_app" in scr, f"proxy names missing:\n{scr}")
        check(row(scr, "FRONTEND")[2:3] == ["OPEN"], f"FRONTEND row: {row(scr, 'FRONTEND')}")
        check(row(scr, "BACKEND")[2:3] == ["UP"], f"BACKEND row: {row(scr, 'BACKEND')}")
        # NAME W STATUS CHECK ...
        check(row(scr, "web1")[1:4] == ["1", "UP", "L4OK"], f"web1 row: {row(scr, 'web1')}")
        check(row(scr, "web2")[1:4] == ["1", "UP", "L4OK"], f"web2 row: {row(scr, 'web2')}")
        check(row(scr, "web3")[1:4] == ["1", "DOWN", "L4CON"], f"web3 row: {row(scr, 'web3')}")
        # The header comes from `show info`.
        m = re.search(r"PID: (\d+)", scr)
        check(m and int(m.group(1)) == p.pid, f"hatop's PID is not the proxy's ({p.pid}):\n{scr[:600]}")
        check(re.search(r"Connections: \[\s*\d+/\d+\]", scr), f"no connections gauge:\n{scr[:600]}")


def test_hatop_f10_disables_and_f9_enables_a_server():
    with hatop_on_proxy() as (p, sock, t):
        wait_screen(t, lambda s: row(s, "web3"), 5.0)
        # Move the cursor (it starts on the first line) to web1.
        for _ in range(15):
            if cursor_line(t).startswith("web1 "):
                break
            t.keys("Down")
            time.sleep(0.15)
        check(cursor_line(t).startswith("web1 "), f"cursor not on web1: {cursor_line(t)!r}")
        t.keys("F10")
        check(wait_until(lambda: stat_status(sock, "be_app", "web1") == "MAINT", 3.0),
              f"F10: web1 is {stat_status(sock, 'be_app', 'web1')!r} on the admin socket, not MAINT")
        check(stat_status(sock, "be_app", "web2").startswith("UP"), "F10 touched web2")
        scr = wait_screen(t, lambda s: row(s, "web1")[2:3] == ["MAINT"], 3.0)
        check(row(scr, "web1")[2:3] == ["MAINT"], f"hatop does not show web1 MAINT: {row(scr, 'web1')}")
        t.keys("F9")
        check(wait_until(lambda: stat_status(sock, "be_app", "web1") == "UP", 3.0),
              f"F9: web1 is {stat_status(sock, 'be_app', 'web1')!r} on the admin socket, not UP")
        scr = wait_screen(t, lambda s: row(s, "web1")[2:3] == ["UP"], 3.0)
        check(row(scr, "web1")[2:3] == ["UP"], f"hatop does not show web1 UP again: {row(scr, 'web1')}")


if __name__ == "__main__":
    run_tests(globals())
