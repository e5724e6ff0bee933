"""Helpers for proxyd's integration tests (Python 3.11 standard library only).

The tests drive a real binary over loopback. They are written against the
drop-in contract: every test must also pass against HAProxy 2.6
(PROXYD=/usr/sbin/haproxy), except the parts marked proxyd-only, which are
skipped when the binary is haproxy.

Environment:
  PROXYD  the binary under test (default: $BUILD/proxyd/proxyd, BUILD defaults
          to $SRC/build, SRC to the repository root)
  SRC     the repository root (for conf/)

Rules kept here: everything binds 127.0.0.1 (clients may bind other 127/8
addresses); every wait is bounded in time and every loop in count; processes
are stopped by their pid only.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from typing import Callable, Iterator

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("SRC") or os.path.abspath(os.path.join(HERE, "..", ".."))
BUILD = os.environ.get("BUILD") or os.path.join(SRC, "build")
PROXYD = os.environ.get("PROXYD") or os.path.join(BUILD, "proxyd", "proxyd")
LOOPBACK = "127.0.0.1"


def is_haproxy() -> bool:
    """True when the binary under test is HAProxy itself (reference run)."""
    return os.path.basename(PROXYD).startswith("haproxy")


# --------------------------------------------------------------------------
# Test runner

class Skip(Exception):
    """Raised by a test (or part of one) that does not apply to this binary."""


def skip_if_haproxy(reason: str) -> None:
    """Skip the rest of a test when running against HAProxy.

    Use only where proxyd's spec intentionally differs from HAProxy; `reason`
    names the difference."""
    if is_haproxy():
        raise Skip(f"proxyd-only ({reason})")


def check(cond: bool, msg: str) -> None:
    """assert that survives `python -O` and carries a readable message."""
    if not cond:
        raise AssertionError(msg)


def run_tests(namespace: dict, argv: list[str] | None = None) -> None:
    """Run every function named test_* in `namespace`, in definition order.

    Prints PASS/FAIL/SKIP per test and ends with "N passed, N failed"; exits
    non-zero if any test failed. Command-line arguments, if given, select
    tests by substring of their name."""
    argv = sys.argv[1:] if argv is None else argv
    tests = [(n, f) for n, f in namespace.items() if n.startswith("test_") and callable(f)]
    if argv:
        tests = [(n, f) for n, f in tests if any(a in n for a in argv)]
    if not os.path.exists(PROXYD):
        print(f"binary under test not found: {PROXYD} (set PROXYD)")
        print(f"0 passed, {max(len(tests), 1)} failed")
        sys.exit(1)
    print(f"binary under test: {PROXYD}{' (HAProxy reference run)' if is_haproxy() else ''}")
    passed = failed = skipped = 0
    for name, fn in tests:
        t0 = time.monotonic()
        try:
            fn()
        except Skip as e:
            skipped += 1
            print(f"SKIP {name}: {e}", flush=True)
            continue
        except Exception as e:  # noqa: BLE001 - report every failure kind
            failed += 1
            dt = time.monotonic() - t0
            print(f"FAIL {name} ({dt:.1f}s): {type(e).__name__}: {e}", flush=True)
            tb = traceback.format_exc().rstrip().splitlines()
            print("    " + "\n    ".join(tb[-6:]), flush=True)
            continue
        passed += 1
        print(f"PASS {name} ({time.monotonic() - t0:.1f}s)", flush=True)
    if skipped:
        print(f"({skipped} skipped)")
    print(f"{passed} passed, {failed} failed", flush=True)
    sys.exit(1 if failed else 0)


# --------------------------------------------------------------------------
# Ports and sockets

_handed_out: set[int] = set()
_ports_lock = threading.Lock()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now and not handed out before by
    this process (the kernel may still reuse it elsewhere; good enough for
    tests)."""
    with _ports_lock:
        for _ in range(50):
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                s.bind((LOOPBACK, 0))
                port = s.getsockname()[1]
            if port not in _handed_out:
                _handed_out.add(port)
                return port
    raise RuntimeError("no free port found in 50 tries")


def listening_ports() -> set[int]:
    """Ports of TCP sockets in LISTEN state in this network namespace."""
    ports: set[int] = set()
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path) as f:
                lines = f.readlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 3 and fields[3] == "0A":
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def is_listening(port: int) -> bool:
    return port in listening_ports()


def admin_command(path: str, command: str, timeout: float = 2.0) -> str:
    """One command on a stats socket (non-interactive mode: the proxy
    answers and closes); the whole answer. A newline is added if missing."""
    if not command.endswith("\n"):
        command += "\n"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(path)
        s.sendall(command.encode())
        out = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    return out.decode(errors="replace")


def wait_until(pred: Callable[[], object], timeout: float, step: float = 0.02) -> bool:
    """Poll pred() until it is truthy or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        if pred():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(step)


# --------------------------------------------------------------------------
# Client side

class Conn:
    """A client connection with a line buffer. Every read has a timeout."""

    def __init__(self, port: int, src: str | None = None, timeout: float = 3.0,
                 host: str = LOOPBACK):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.buf = b""
        self.eof = False
        try:
            if src:
                self.sock.bind((src, 0))
            self.sock.settimeout(timeout)
            self.sock.connect((host, port))
        except Exception:
            self.sock.close()
            raise

    def _fill(self, timeout: float) -> bool:
        """Read once; False on timeout. Sets eof on EOF or reset."""
        if self.eof:
            return False
        self.sock.settimeout(max(timeout, 0.001))
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return False
        except (ConnectionResetError, BrokenPipeError, OSError):
            self.eof = True
            return False
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def line(self, timeout: float = 2.0) -> str | None:
        """Next line without its newline; None on timeout or EOF."""
        deadline = time.monotonic() + timeout
        for _ in range(10000):
            if b"\n" in self.buf:
                ln, self.buf = self.buf.split(b"\n", 1)
                return ln.decode(errors="replace")
            left = deadline - time.monotonic()
            if left <= 0 or self.eof:
                return None
            self._fill(left)
        return None

    def wait_closed(self, timeout: float) -> float | None:
        """Seconds until the peer closed (EOF or reset), None if still open
        after `timeout`. Data received meanwhile is kept in the buffer."""
        t0 = time.monotonic()
        deadline = t0 + timeout
        for _ in range(100000):
            if self.eof:
                return time.monotonic() - t0
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self._fill(min(left, 0.2))
        return None

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def shut_wr(self) -> None:
        self.sock.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()

    def __enter__(self) -> "Conn":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def ask(port: int, src: str | None = None, timeout: float = 2.0) -> str | None:
    """Connect, return the first line (the answering backend's name), close.
    None if the connection failed, was closed, or nothing came in time."""
    try:
        with Conn(port, src=src, timeout=timeout) as c:
            return c.line(timeout)
    except OSError:
        return None


def ask_many(port: int, n: int, src: str | None = None, timeout: float = 2.0) -> list[str | None]:
    return [ask(port, src=src, timeout=timeout) for _ in range(n)]


def counts(names: list[str | None]) -> dict[str | None, int]:
    out: dict[str | None, int] = {}
    for n in names:
        out[n] = out.get(n, 0) + 1
    return out


# --------------------------------------------------------------------------
# Backend servers (in-process, threads)

class Backend:
    """A TCP server on 127.0.0.1 run on threads.

    mode "echo":   send "<name>\\n" on accept, echo everything; on the
                   client's EOF send "EOF:<name>\\n" and close.
    mode "close":  send "<name>\\n" and close.
    mode "silent": accept and never send anything nor close (until stopped);
                   a client EOF is counted in `eofs`.
    mode "mute":   accept and never send anything; close on the client's EOF
                   (counted in `eofs`).
    accept_delay:  seconds slept before each accept() (a slow server).
    host:          the address to listen on (another 127/8 address is fine).

    Health checks hit it too; tests therefore count names seen by clients,
    not `accepted` here, unless checks are off."""

    def __init__(self, name: str, port: int | None = None, mode: str = "echo",
                 accept_delay: float = 0.0, backlog: int = 128, host: str = LOOPBACK):
        self.name = name
        self.host = host
        self.port = port or free_port()
        self.mode = mode
        self.accept_delay = accept_delay
        self.backlog = backlog
        self.accepted = 0
        self.active = 0
        self.eofs = 0
        self.received = 0  # bytes, all connections
        self.peers: list[tuple[str, int]] = []
        self._lock = threading.Lock()
        self._lsock: socket.socket | None = None
        self._conns: set[socket.socket] = set()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    # lifecycle
    def start(self) -> "Backend":
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((self.host, self.port))
        s.listen(self.backlog)
        s.settimeout(0.05)
        self._lsock = s
        self._stop = threading.Event()
        t = threading.Thread(target=self._accept_loop, args=(s, self._stop), daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def stop(self) -> None:
        """Kill: close the listener (new connections are refused) and reset
        every open connection."""
        self._stop.set()
        if self._lsock is not None:
            with contextlib.suppress(OSError):
                self._lsock.close()
            self._lsock = None
        with self._lock:
            conns = list(self._conns)
        for c in conns:
            with contextlib.suppress(OSError):
                c.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                c.close()
        for t in self._threads:
            t.join(timeout=1.0)
        self._threads = [t for t in self._threads if t.is_alive()]

    def __enter__(self) -> "Backend":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # internals
    def _accept_loop(self, lsock: socket.socket, stop: threading.Event) -> None:
        while not stop.is_set():
            if self.accept_delay:
                stop.wait(self.accept_delay)
                if stop.is_set():
                    return
            try:
                conn, peer = lsock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self._lock:
                self.accepted += 1
                self.active += 1
                self.peers.append(peer)
                self._conns.add(conn)
            t = threading.Thread(target=self._serve, args=(conn, stop), daemon=True)
            t.start()

    def _serve(self, conn: socket.socket, stop: threading.Event) -> None:
        try:
            conn.settimeout(0.1)
            if self.mode == "silent":
                # Hold the connection until stopped, even past the peer's EOF.
                eof = False
                while not stop.is_set():
                    if eof:
                        stop.wait(0.1)
                        continue
                    try:
                        data = conn.recv(65536)
                    except socket.timeout:
                        continue
                    with self._lock:
                        self.received += len(data)
                        self.eofs += not data
                    eof = not data
                return
            if self.mode == "mute":
                while not stop.is_set():
                    try:
                        data = conn.recv(65536)
                    except socket.timeout:
                        continue
                    with self._lock:
                        self.received += len(data)
                        self.eofs += not data
                    if not data:
                        return
                return
            conn.sendall(f"{self.name}\n".encode())
            if self.mode == "close":
                return
            while not stop.is_set():
                try:
                    data = conn.recv(65536)
                except socket.timeout:
                    continue
                with self._lock:
                    self.received += len(data)
                if not data:
                    with self._lock:
                        self.eofs += 1
                    conn.sendall(f"EOF:{self.name}\n".encode())
                    break
                conn.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                self.active -= 1
                self._conns.discard(conn)
            with contextlib.suppress(OSError):
                conn.close()


@contextlib.contextmanager
def backends(*names: str, **kw) -> Iterator[list[Backend]]:
    """Start one Backend per name; stop them all on exit."""
    started: list[Backend] = []
    try:
        for n in names:
            started.append(Backend(n, **kw).start())
        yield started
    finally:
        for b in started:
            b.stop()


# --------------------------------------------------------------------------
# The proxy under test

class Proxy:
    """proxyd (or haproxy) in the foreground (-db) on a config text.

    stdout and stderr go to one file, readable with output(). The config is
    written to a temp dir that is removed on stop()."""

    def __init__(self, config: str, wait_ports: list[int] | None = None,
                 extra_args: list[str] | None = None, start_timeout: float = 5.0,
                 files: list[tuple[str, str]] | None = None):
        """`files`, if given, is a list of (file name, text) written in that
        order into a directory passed as `-f DIR` (instead of `config`, which
        then only serves to find the ports to wait for)."""
        self.config = config
        self.files = files
        self.wait_ports = (wait_ports if wait_ports is not None
                           else [int(p) for p in re.findall(r"^\s*bind\s+127\.0\.0\.1:(\d+)", config, re.M)])
        self.extra_args = extra_args or []
        self.start_timeout = start_timeout
        self.dir = tempfile.mkdtemp(prefix="proxyd-it-")
        self.cfg_path = os.path.join(self.dir, "proxy.cfg")
        self.out_path = os.path.join(self.dir, "output.log")
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Proxy":
        cfg = self.cfg_path
        if self.files is not None:
            cfg = os.path.join(self.dir, "conf.d")
            os.mkdir(cfg)
            for name, text in self.files:
                with open(os.path.join(cfg, name), "w") as f:
                    f.write(text)
        else:
            with open(self.cfg_path, "w") as f:
                f.write(self.config)
        out = open(self.out_path, "wb")
        try:
            self.proc = subprocess.Popen([PROXYD, "-db", "-f", cfg, *self.extra_args],
                                         stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                         cwd=self.dir)
        finally:
            out.close()
        ok = wait_until(lambda: self.proc.poll() is not None
                        or all(is_listening(p) for p in self.wait_ports), self.start_timeout)
        if self.proc.poll() is not None:
            rc = self.proc.returncode
            text = self.output()
            self.stop()
            raise RuntimeError(f"proxy exited with {rc} at startup:\n{text}")
        if not ok:
            text = self.output()
            self.stop()
            raise RuntimeError(f"proxy not listening on {self.wait_ports} within {self.start_timeout}s:\n{text}")
        return self

    def output(self) -> str:
        try:
            with open(self.out_path, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def wait_output(self, pattern: str, timeout: float) -> re.Match | None:
        """Wait for a regex to appear in the output; the match or None."""
        found: list[re.Match] = []

        def probe() -> bool:
            m = re.search(pattern, self.output())
            if m:
                found.append(m)
            return bool(m)

        wait_until(probe, timeout, step=0.02)
        return found[0] if found else None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def rss_kib(self) -> int | None:
        return rss_kib(self.pid) if self.pid else None

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 3 s; always removes the temp dir."""
        try:
            if self.proc and self.proc.poll() is None:
                stop_pid(self.proc.pid, wait=lambda t: _wait_child(self.proc, t))
        finally:
            if self.proc:
                with contextlib.suppress(Exception):
                    self.proc.wait(timeout=1)
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> "Proxy":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _wait_child(proc: subprocess.Popen, timeout: float) -> bool:
    try:
        proc.wait(timeout=timeout)
        return True
    except subprocess.TimeoutExpired:
        return False


def pid_alive(pid: int) -> bool:
    """True if pid exists and is not a zombie (works for non-children)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except (OSError, IndexError):
        return False


def stop_pid(pid: int, wait: Callable[[float], bool] | None = None) -> None:
    """SIGTERM pid, wait up to 3 s, then SIGKILL. Only ever this one pid."""
    wait = wait or (lambda t: wait_until(lambda: not pid_alive(pid), t))
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    if wait(3.0):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    wait(2.0)


def rss_kib(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def run_proxyd(args: list[str], timeout: float = 10.0, cwd: str | None = None) -> subprocess.CompletedProcess:
    """Run the binary to completion (e.g. -c); stdout+stderr merged in .stdout."""
    return subprocess.run([PROXYD, *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=timeout, cwd=cwd, text=True)


# --------------------------------------------------------------------------
# Syslog receiver and a server that never completes a handshake

class SyslogReceiver:
    """A UDP syslog receiver on 127.0.0.1: every datagram, decoded, in
    `messages` (filled by a thread)."""

    def __init__(self, port: int | None = None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((LOOPBACK, port or 0))
        self.port = self.sock.getsockname()[1]
        self.sock.settimeout(0.05)
        self.messages: list[str] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            with self._lock:
                self.messages.append(data.decode(errors="replace"))

    def snapshot(self) -> list[str]:
        with self._lock:
            return list(self.messages)

    def wait_for(self, pattern: str, timeout: float) -> re.Match | None:
        """The first message matching the regex (searched), waiting up to
        `timeout` seconds; None if none came."""
        found: list[re.Match] = []

        def probe() -> bool:
            for m in self.snapshot():
                hit = re.search(pattern, m)
                if hit:
                    found.append(hit)
                    return True
            return False

        wait_until(probe, timeout)
        return found[0] if found else None

    def start(self) -> "SyslogReceiver":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=1.0)
        with contextlib.suppress(OSError):
            self.sock.close()

    def __enter__(self) -> "SyslogReceiver":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


@contextlib.contextmanager
def syn_blackhole() -> Iterator[int]:
    """A port on 127.0.0.1 where connects never complete: a listener with
    backlog 0 that never accepts, whose accept queue is filled first, so the
    kernel drops further SYNs (the connecting side sees a connect timeout,
    not a refusal). Yields the port."""
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    fillers: list[socket.socket] = []
    try:
        lsock.bind((LOOPBACK, 0))
        lsock.listen(0)
        port = lsock.getsockname()[1]
        # Connect until one attempt does not complete within 0.3 s: the queue
        # is full from then on.
        for _ in range(8):
            c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            fillers.append(c)
            c.settimeout(0.3)
            try:
                c.connect((LOOPBACK, port))
            except (socket.timeout, BlockingIOError):
                break
        else:
            raise RuntimeError("could not fill the accept queue of a backlog-0 listener")
        yield port
    finally:
        for c in fillers:
            with contextlib.suppress(OSError):
                c.close()
        with contextlib.suppress(OSError):
            lsock.close()


# --------------------------------------------------------------------------
# Config snippets

TCP_DEFAULTS = """\
defaults
    mode tcp
    timeout connect 1s
    timeout client 10s
    timeout server 10s
"""


def global_section(*extra: str, log: bool = False) -> str:
    lines = ["global", "    maxconn 1000"]
    if log:
        lines.append("    log stdout format raw local0")
    lines += [f"    {e}" for e in extra]
    return "\n".join(lines) + "\n"


def listen_tcp(name: str, port: int, servers: list[tuple[str, int, str]], *options: str) -> str:
    """A `listen` section on 127.0.0.1:port; servers are (name, port, params)."""
    out = [f"listen {name}", f"    bind 127.0.0.1:{port}"]
    out += [f"    {o}" for o in options]
    out += [f"    server {n} 127.0.0.1:{p} {params}".rstrip() for n, p, params in servers]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------
# HTTP (mode http tests)

HTTP_DEFAULTS = """\
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
"""


class HttpBackend:
    """A small HTTP/1.1 keep-alive server on 127.0.0.1, run on threads.

    Every request is recorded in `requests` as a dict (method, target,
    version, headers: list of (lower-cased name, value), body: bytes, conn:
    the connection's number). `accepted` counts connections. Answers, by
    path:
      /slow/<ms>   wait <ms> then answer as the default
      /status/<n>  status n (204/304: no body), HEAD: head only
      /close       answer with "Connection: close" and close
      /ws          101 Switching Protocols, then echo bytes until EOF
      anything else: 200, body "<name> <METHOD> <target> <body length>\\n",
                   X-Server: <name>
    Bodies are read per Content-Length or chunked framing."""

    def __init__(self, name: str, port: int | None = None):
        self.name = name
        self.port = port or free_port()
        self.accepted = 0
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._lsock: socket.socket | None = None
        self._conns: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []

    def start(self) -> "HttpBackend":
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((LOOPBACK, self.port))
        s.listen(128)
        s.settimeout(0.05)
        self._lsock = s
        t = threading.Thread(target=self._accept_loop, args=(s,), daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._lsock is not None:
            with contextlib.suppress(OSError):
                self._lsock.close()
            self._lsock = None
        with self._lock:
            conns = list(self._conns)
        for c in conns:
            with contextlib.suppress(OSError):
                c.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                c.close()
        for t in self._threads:
            t.join(timeout=1.0)

    def __enter__(self) -> "HttpBackend":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def snapshot(self) -> list[dict]:
        with self._lock:
            return list(self.requests)

    def _accept_loop(self, lsock: socket.socket) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = lsock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self._lock:
                self.accepted += 1
                n = self.accepted
                self._conns.add(conn)
            t = threading.Thread(target=self._serve, args=(conn, n), daemon=True)
            t.start()

    def _serve(self, conn: socket.socket, n: int) -> None:
        rd = _Reader(conn, self._stop)
        try:
            for _ in range(100000):
                head = rd.until(b"\r\n\r\n")
                if head is None:
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, target, version = lines[0].split(" ", 2)
                headers = []
                for ln in lines[1:]:
                    k, _, v = ln.partition(":")
                    headers.append((k.strip().lower(), v.strip()))
                hd = dict(headers)
                body = b""
                if hd.get("transfer-encoding", "").lower() == "chunked":
                    while True:
                        size_line = rd.until(b"\r\n")
                        if size_line is None:
                            return
                        size = int(size_line.split(b";")[0], 16)
                        if size == 0:
                            if rd.until(b"\r\n") is None:  # no trailers
                                return
                            break
                        chunk = rd.exact(size + 2)
                        if chunk is None:
                            return
                        body += chunk[:-2]
                elif "content-length" in hd:
                    body = rd.exact(int(hd["content-length"])) or b""
                with self._lock:
                    self.requests.append({"method": method, "target": target, "version": version,
                                          "headers": headers, "body": body, "conn": n})
                if not self._answer(conn, rd, method, target, hd, body):
                    return
        except (OSError, ValueError):
            pass
        finally:
            with self._lock:
                self._conns.discard(conn)
            with contextlib.suppress(OSError):
                conn.close()

    def _answer(self, conn, rd, method, target, hd, body) -> bool:
        path = target.split("?", 1)[0]
        if path.startswith("/slow/"):
            self._stop.wait(int(path.split("/")[2]) / 1000.0)
        if path == "/ws":
            key = hd.get("sec-websocket-key", "")
            accept = base64.b64encode(hashlib.sha1(
                (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
            conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                         b"Connection: Upgrade\r\nSec-WebSocket-Accept: "
                         + accept.encode() + b"\r\n\r\n")
            if rd.buf:
                conn.sendall(rd.buf)
            while not self._stop.is_set():
                try:
                    d = conn.recv(65536)
                except socket.timeout:
                    continue
                if not d:
                    return False
                conn.sendall(d)
            return False
        if path.startswith("/status/"):
            code = int(path.split("/")[2])
            text = f"{self.name} {code}\n".encode()
            if code in (204, 304):
                conn.sendall(f"HTTP/1.1 {code} X\r\nX-Server: {self.name}\r\n\r\n".encode())
            else:
                conn.sendall(f"HTTP/1.1 {code} X\r\nX-Server: {self.name}\r\n"
                             f"Content-Length: {len(text)}\r\n\r\n".encode()
                             + (b"" if method == "HEAD" else text))
            return True
        text = f"{self.name} {method} {target} {len(body)}\n".encode()
        close = path == "/close" or hd.get("connection", "").lower() == "close"
        extra = "Connection: close\r\n" if close else ""
        conn.sendall(f"HTTP/1.1 200 OK\r\nX-Server: {self.name}\r\nContent-Length: {len(text)}\r\n"
                     f"{extra}\r\n".encode() + (b"" if method == "HEAD" else text))
        return not close


class _Reader:
    """Buffered reads on a socket with a stop flag (0.1 s polls)."""

    def __init__(self, sock: socket.socket, stop: threading.Event):
        self.sock = sock
        self.stop = stop
        self.buf = b""
        sock.settimeout(0.1)

    def _more(self) -> bool:
        while not self.stop.is_set():
            try:
                d = self.sock.recv(65536)
            except socket.timeout:
                continue
            if not d:
                return False
            self.buf += d
            return True
        return False

    def until(self, sep: bytes) -> bytes | None:
        while sep not in self.buf:
            if not self._more():
                return None
        out, self.buf = self.buf.split(sep, 1)
        return out

    def exact(self, n: int) -> bytes | None:
        while len(self.buf) < n:
            if not self._more():
                return None
        out, self.buf = self.buf[:n], self.buf[n:]
        return out


def http_exchange(port: int, data: bytes, timeout: float = 3.0, until_close: bool = True) -> bytes:
    """Send raw bytes, return everything received until the proxy closes (or
    `timeout` passes)."""
    with Conn(port, timeout=timeout) as c:
        c.send(data)
        c.wait_closed(timeout)
        return c.buf


def read_response(c: Conn, timeout: float = 3.0, head_only: bool = False) -> tuple[int, dict, bytes] | None:
    """One HTTP/1.1 response from a Conn (Content-Length or no body):
    (status, headers lower-cased, body); None on timeout or EOF."""
    deadline = time.monotonic() + timeout
    while b"\r\n\r\n" not in c.buf:
        left = deadline - time.monotonic()
        if left <= 0 or c.eof:
            return None
        c._fill(left)
    head, rest = c.buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    hd = {}
    for ln in lines[1:]:
        k, _, v = ln.partition(":")
        hd[k.strip().lower()] = v.strip()
    n = 0 if head_only or status in (204, 304) or status < 200 else int(hd.get("content-length", "0"))
    while len(rest) < n:
        left = deadline - time.monotonic()
        if left <= 0 or c.eof:
            return None
        c.buf = head + b"\r\n\r\n" + rest
        c._fill(left)
        head, rest = c.buf.split(b"\r\n\r\n", 1)
    c.buf = rest[n:]
    return status, hd, rest[:n]
