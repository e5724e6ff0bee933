#!/usr/bin/env python3
"""`nbthread`: several worker threads, each with its own event loop and its
own streams, sharing the backends (servers' connection counts, maxconn,
queues, balancer) and the global/frontend connection counts.

Every case runs with an explicit `nbthread 4`, more threads than this
machine's 2 cores, so streams land on different threads and the cross-thread
paths (a queue turn for a stream of another thread, a kill posted to another
thread, limits counted over all threads) are exercised.

Written against HAProxy 2.6 first (PROXYD=/usr/sbin/haproxy): every check
not marked proxyd-only passes there. HAProxy reloads only in master-worker
mode, so the reload case runs haproxy with -W and signals the master (whose
pid, like proxyd's, is the one a supervisor sees)."""

import contextlib
import os
import signal
import socket
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (HTTP_DEFAULTS, TCP_DEFAULTS, Backend, Conn, HttpBackend, Proxy,  # noqa: E402
                     check, free_port, is_haproxy, read_response, run_tests, wait_until)
from harness import admin_command as cli  # noqa: E402
from harness import ask as ask_tcp  # noqa: E402

NBTHREAD = 4


def global_section(*extra: str, maxconn: int = 1000) -> str:
    return "".join(["global\n", f"    maxconn {maxconn}\n", f"    nbthread {NBTHREAD}\n"]
                   + [f"    {e}\n" for e in extra])


@contextlib.contextmanager
def socket_dir():
    d = tempfile.mkdtemp(prefix="proxyd-thr-")
    sock = os.path.join(d, "admin.sock")
    try:
        yield sock
    finally:
        with contextlib.suppress(OSError):
            os.unlink(sock)
        with contextlib.suppress(OSError):
            os.rmdir(d)


# A ThreadSanitizer build (CI runs this script against one) has one thread
# of its own, named like the process.
SANITIZER_THREADS = 1 if "TSAN_OPTIONS" in os.environ else 0


def tasks(pid: int) -> list[str]:
    """The names (comm) of the process's threads, without a sanitizer's."""
    out = []
    for t in sorted(os.listdir(f"/proc/{pid}/task"), key=int):
        with contextlib.suppress(OSError), open(f"/proc/{pid}/task/{t}/comm") as f:
            out.append(f.read().strip())
    for _ in range(SANITIZER_THREADS):
        if out.count(out[0]) > 1:
            out.remove(out[0])
    return out


def run_parallel(n: int, fn, timeout: float) -> list:
    """Run fn(i) on n threads released together; their results (an exception
    is returned as its repr). Bounded by `timeout` for the whole lot."""
    results: list = [None] * n
    gate = threading.Barrier(n)

    def body(i: int) -> None:
        try:
            gate.wait(timeout)
            results[i] = fn(i)
        except Exception as e:  # noqa: BLE001 - reported by the caller
            results[i] = f"error: {e!r}"

    ts = [threading.Thread(target=body, args=(i,), daemon=True) for i in range(n)]
    for t in ts:
        t.start()
    deadline = time.monotonic() + timeout
    for t in ts:
        t.join(max(0.0, deadline - time.monotonic()))
    check(not any(t.is_alive() for t in ts), f"clients still running after {timeout}s")
    return results


class HoldServer:
    """A server that records how many connections (tcp) or requests (http) it
    holds at once: each is held `hold` seconds, then the in-flight count is
    lowered and only then answered (so the proxy cannot start the next one
    before the count dropped).

    tcp:  send "<name>\\n" and close.
    http: answer 200 with body "<name> <target>\\n", keep-alive."""

    def __init__(self, name: str, hold: float, http: bool):
        self.name = name
        self.hold = hold
        self.http = http
        self.port = free_port()
        self.inflight = 0
        self.peak = 0
        self.served = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._lsock: socket.socket | None = None
        self._conns: set[socket.socket] = set()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> "HoldServer":
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", self.port))
        s.listen(128)
        s.settimeout(0.05)
        self._lsock = s
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            self._lsock.close()
        with self._lock:
            conns = list(self._conns)
        for c in conns:
            with contextlib.suppress(OSError):
                c.shutdown(socket.SHUT_RDWR)
        self._thread.join(1.0)

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._lsock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self._lock:
                self._conns.add(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _held(self) -> None:
        with self._lock:
            self.inflight += 1
            self.peak = max(self.peak, self.inflight)
        self._stop.wait(self.hold)
        with self._lock:
            self.inflight -= 1
            self.served += 1

    def _serve(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(0.1)
            if not self.http:
                self._held()
                conn.sendall(f"{self.name}\n".encode())
                return
            buf = b""
            for _ in range(1000):
                while b"\r\n\r\n" not in buf:
                    if self._stop.is_set():
                        return
                    try:
                        d = conn.recv(65536)
                    except socket.timeout:
                        continue
                    if not d:
                        return
                    buf += d
                head, buf = buf.split(b"\r\n\r\n", 1)
                target = head.split(b" ", 2)[1].decode()
                self._held()
                body = f"{self.name} {target}\n".encode()
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        except OSError:
            pass
        finally:
            with self._lock:
                self._conns.discard(conn)
            with contextlib.suppress(OSError):
                conn.close()


# --------------------------------------------------------------------------


def test_show_info_and_threads_of_the_process():
    with socket_dir() as sock, Backend("web1") as w1:
        port = free_port()
        cfg = (global_section(f"stats socket {sock} level admin") + TCP_DEFAULTS
               + f"listen app\n    bind 127.0.0.1:{port}\n    server web1 127.0.0.1:{w1.port}\n")
        with Proxy(cfg) as p:
            check(wait_until(lambda: os.path.exists(sock), 3.0), "stats socket did not appear")
            info = cli(sock, "show info\n")
            check(f"\nNbthread: {NBTHREAD}\n" in info, f"show info lacks 'Nbthread: {NBTHREAD}': {info[:400]}")
            # All threads are up once it serves (and still after it served).
            check(ask_tcp(port) == "web1", "not serving")
            names = tasks(p.pid)
            check(len(names) == NBTHREAD, f"/proc/{p.pid}/task has {len(names)} threads: {names}")
            if not is_haproxy():  # proxyd-only: haproxy names all its threads "haproxy"
                want = ["proxyd"] + [f"proxyd/{i}" for i in range(1, NBTHREAD)]
                check(names == want, f"thread names {names}, want {want}")


def test_many_concurrent_http_clients_keepalive_and_close():
    n_clients, per_client = 16, 25
    with HttpBackend("web1") as w1, HttpBackend("web2") as w2:
        port = free_port()
        cfg = (global_section() + HTTP_DEFAULTS
               + f"frontend fe\n    bind 127.0.0.1:{port}\n    default_backend app\n"
               + "backend app\n    balance roundrobin\n"
               + f"    server web1 127.0.0.1:{w1.port}\n    server web2 127.0.0.1:{w2.port}\n")
        with Proxy(cfg):
            def client(i: int) -> list[str]:
                keep_alive = i % 2 == 0
                errors: list[str] = []
                c = None
                try:
                    for j in range(per_client):
                        if c is None or not keep_alive:
                            if c:
                                c.close()
                            c = Conn(port, timeout=5.0)
                        target = f"/c{i}/r{j}"
                        conn_hdr = "" if keep_alive else "Connection: close\r\n"
                        c.send(f"GET {target} HTTP/1.1\r\nHost: t\r\n{conn_hdr}\r\n".encode())
                        r = read_response(c, 5.0)
                        if r is None:
                            errors.append(f"{target}: no response")
                            break
                        status, hd, body = r
                        srv = hd.get("x-server", "")
                        if status != 200 or srv not in ("web1", "web2") \
                                or body != f"{srv} GET {target} 0\n".encode():
                            errors.append(f"{target}: {status} {srv!r} {body!r}")
                finally:
                    if c:
                        c.close()
                return errors

            results = run_parallel(n_clients, client, 40.0)
            bad = [r for r in results if r]
            check(not bad, f"{len(bad)} clients got wrong answers: {bad[:3]}")
            sent = {f"/c{i}/r{j}" for i in range(n_clients) for j in range(per_client)}
            seen = [r["target"] for r in w1.snapshot() + w2.snapshot()]
            check(len(seen) == len(sent) and set(seen) == sent,
                  f"backends saw {len(seen)} requests ({len(set(seen))} distinct), sent {len(sent)}")
            n1, n2 = len(w1.snapshot()), len(w2.snapshot())
            # roundrobin over two equal servers: an even split (HAProxy: 200/200).
            check(abs(n1 - n2) <= 8, f"roundrobin split {n1}/{n2}")


def _queue_case(http: bool) -> None:
    n = 30
    mode = "http" if http else "tcp"
    with HoldServer("s1", 0.1, http=http) as s1:
        port = free_port()
        defaults = (HTTP_DEFAULTS if http else TCP_DEFAULTS) + "    timeout queue 20s\n"
        defaults = defaults.replace("timeout server 5s", "timeout server 20s") \
            .replace("timeout client 5s", "timeout client 20s")
        cfg = (global_section() + defaults
               + f"listen app\n    bind 127.0.0.1:{port}\n"
               + f"    server s1 127.0.0.1:{s1.port} maxconn 2\n")
        with Proxy(cfg):
            def client(i: int) -> str:
                with Conn(port, timeout=15.0) as c:
                    if http:
                        c.send(f"GET /q{i} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
                        r = read_response(c, 15.0)
                        return "no response" if r is None else f"{r[0]} {r[2].decode().strip()}"
                    return c.line(15.0) or "no greeting"

            results = run_parallel(n, client, 25.0)
            want = [f"200 s1 /q{i}" if http else "s1" for i in range(n)]
            wrong = [(i, r) for i, r in enumerate(results) if r != want[i]]
            check(not wrong, f"{mode}: {len(wrong)} of {n} clients failed: {wrong[:3]}")
            check(s1.served == n, f"{mode}: server served {s1.served}, want {n}")
            check(s1.peak == 2, f"{mode}: server held {s1.peak} at once with maxconn 2")


def test_server_maxconn_queue_shared_by_threads_http():
    _queue_case(http=True)


def test_server_maxconn_queue_shared_by_threads_tcp():
    _queue_case(http=False)


def _limit_case(global_maxconn: int, fe_maxconn: int, limit: int, n: int) -> None:
    with HoldServer("s1", 0.3, http=False) as s1:
        port = free_port()
        # fe maxconn also sets HAProxy's listen backlog: large when the
        # global limit is the one under test; else at most that many wait.
        cfg = (global_section(maxconn=global_maxconn) + TCP_DEFAULTS
               + f"frontend fe\n    bind 127.0.0.1:{port}\n    maxconn {fe_maxconn}\n"
               + "    default_backend app\n"
               + f"backend app\n    server s1 127.0.0.1:{s1.port}\n")
        with Proxy(cfg):
            def client(i: int) -> str:
                with Conn(port, timeout=15.0) as c:
                    got = c.line(15.0) or "no greeting"
                    if c.wait_closed(2.0) is None:
                        return "not closed after the server closed"
                    return got

            t0 = time.monotonic()
            results = run_parallel(n, client, 25.0)
            took = time.monotonic() - t0
            wrong = [(i, r) for i, r in enumerate(results) if r != "s1"]
            check(not wrong, f"{len(wrong)} of {n} clients failed: {wrong[:3]}")
            check(s1.served == n, f"server served {s1.served}, want {n}")
            check(s1.peak == limit, f"server held {s1.peak} at once, limit {limit}")
            # n / limit rounds of 0.3 s at least.
            check(took >= 0.3 * (n // limit) * 0.9, f"all {n} served in {took:.2f}s: limit not applied")


def test_global_maxconn_counted_over_threads():
    _limit_case(global_maxconn=5, fe_maxconn=100, limit=5, n=20)


def test_frontend_maxconn_counted_over_threads():
    _limit_case(global_maxconn=1000, fe_maxconn=4, limit=4, n=8)


def test_shutdown_sessions_server_kills_streams_on_every_thread():
    n = 12
    with socket_dir() as sock, Backend("s1") as s1:
        port = free_port()
        cfg = (global_section(f"stats socket {sock} level admin") + TCP_DEFAULTS
               + f"frontend fe\n    bind 127.0.0.1:{port}\n    default_backend be\n"
               + f"backend be\n    server s1 127.0.0.1:{s1.port}\n")
        with Proxy(cfg):
            check(wait_until(lambda: os.path.exists(sock), 3.0), "stats socket did not appear")
            conns = []
            try:
                for _ in range(n):
                    conns.append(Conn(port))
                for c in conns:
                    check(c.line(2.0) == "s1", "stream not established")
                check(wait_until(lambda: s1.active == n, 2.0), f"backend holds {s1.active}, want {n}")
                t0 = time.monotonic()
                out = cli(sock, "shutdown sessions server be/s1\n")
                check(out.strip() == "", f"shutdown sessions answered {out!r}")
                still_open = [i for i, c in enumerate(conns)
                              if c.wait_closed(max(0.0, t0 + 1.0 - time.monotonic())) is None]
                check(not still_open, f"{len(still_open)} of {n} streams still open 1 s after "
                      f"shutdown sessions: {still_open}")
                check(wait_until(lambda: s1.active == 0, 2.0),
                      f"backend still holds {s1.active} connections")
                # The server stays usable.
                check(ask_tcp(port) == "s1", "no service after shutdown sessions")
            finally:
                for c in conns:
                    c.close()


class Hammer:
    """Connects every ~5 ms (bounded count) and records failures."""

    def __init__(self, port: int):
        self.port = port
        self.ok = 0
        self.names: set[str] = set()
        self.failed: list[str] = []
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        for _ in range(2000):
            if self._stop.is_set():
                return
            name = ask_tcp(self.port, timeout=1.0)
            if name:
                self.ok += 1
                self.names.add(name)
            elif len(self.failed) < 100:
                self.failed.append(f"no answer at {time.monotonic():.3f}")
            time.sleep(0.005)

    def __enter__(self) -> "Hammer":
        self._t.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._t.join(5.0)


def test_reload_with_threads_refuses_nothing():
    def config(port: int, server_port: int, sock: str) -> str:
        return (global_section(f"stats socket {sock} level admin") + TCP_DEFAULTS
                + f"frontend fe\n    bind 127.0.0.1:{port}\n    default_backend app\n"
                + f"backend app\n    server s1 127.0.0.1:{server_port}\n")

    with socket_dir() as sock, Backend("web1") as w1, Backend("web2") as w2:
        port = free_port()
        # HAProxy reloads only as master-worker: the master keeps its pid.
        p = Proxy(config(port, w1.port, sock), extra_args=["-W"] if is_haproxy() else [])
        with p:
            pid = p.pid
            check(wait_until(lambda: os.path.exists(sock), 3.0), "stats socket did not appear")
            held = [Conn(port) for _ in range(6)]
            try:
                for c in held:
                    check(c.line(2.0) == "web1", "held stream not on web1")
                with Hammer(port) as h:
                    time.sleep(0.3)
                    tmp = p.cfg_path + ".new"
                    with open(tmp, "w") as f:
                        f.write(config(port, w2.port, sock))
                    os.replace(tmp, p.cfg_path)
                    os.kill(pid, signal.SIGUSR2)
                    check(wait_until(lambda: ask_tcp(port) == "web2", 3.0),
                          f"new connections not on web2 after the reload: {p.output()[-500:]}")
                    time.sleep(0.7)
                check(not h.failed, f"{len(h.failed)} connections failed during the reload: {h.failed[:5]}")
                check(h.ok >= 50 and h.names == {"web1", "web2"},
                      f"the client loop saw both configurations: ok={h.ok}, {h.names}")
                # Streams opened before the reload still forward and finish.
                for i, c in enumerate(held):
                    c.send(f"ping{i}\n".encode())
                    check(c.line(2.0) == f"ping{i}", f"old stream {i} no longer forwards")
                    c.shut_wr()
                    check(c.line(2.0) == "EOF:web1", f"old stream {i} did not finish on web1")
                    check(c.wait_closed(2.0) is not None, f"old stream {i} not closed")
            finally:
                for c in held:
                    c.close()
            check(p.proc.poll() is None and p.pid == pid, "the process did not survive the reload")
            check(wait_until(lambda: os.path.exists(sock), 3.0), "stats socket gone after reload")
            info = cli(sock, "show info\n")
            check(f"\nNbthread: {NBTHREAD}\n" in info, f"after reload: {info[:300]}")
            if not is_haproxy():  # proxyd-only: haproxy's master is a separate process
                # The old configuration's threads end once its last stream
                # has (just above): none is left behind.
                check(wait_until(lambda: len(tasks(pid)) == NBTHREAD, 2.0),
                      f"threads after the reload: {tasks(pid)}")


if __name__ == "__main__":
    run_tests(globals())
