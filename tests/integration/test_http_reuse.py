#!/usr/bin/env python3
"""mode http: server connection reuse against servers that close idle
keep-alive connections.

A raw HTTP server (no "Connection: close" in its answers) either closes each
connection right after answering, or closes a connection when a second
request arrives on it without answering (the deterministic shape of a server
idle timeout racing a reused connection). HAProxy 2.6 never answers 502 for
that: a reused connection that closes before any answer ends the client
connection silently, so that the client retries as after any keep-alive
close. proxyd replays a bodiless idempotent request once on a fresh
connection instead (proxyd-only parts), and behaves as HAProxy otherwise.
Also: the idle connection of a client follows it between servers, and a
client that asks to close leaves no idle server connection behind."""

import os
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (HTTP_DEFAULTS, Conn, Proxy, check, free_port, is_haproxy,  # noqa: E402
                     read_response, run_tests, wait_until)


class RawServer:
    """An HTTP/1.1 server on 127.0.0.1 that never says "Connection: close".

    mode "close-after": close each connection right after its first answer.
    mode "close-on-second": answer the first request of a connection, close
    (reset when `rst`) on the second one without answering. mode "keep": a
    plain keep-alive server. Answers "<name> <n>" where n counts requests of
    the whole server. Counts connections, requests and connections seen
    closed by the proxy (`peer_closed`)."""

    def __init__(self, name: str, mode: str, rst: bool = False):
        self.name, self.mode, self.rst = name, mode, rst
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(64)
        self.port = self.lsock.getsockname()[1]
        self.conns = 0
        self.requests: list[tuple[int, str]] = []  # (connection number, request line)
        self.peer_closed = 0
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._accept, daemon=True)]
        self.socks: list[socket.socket] = []

    def __enter__(self) -> "RawServer":
        self.threads[0].start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.lsock.close()
        with self.lock:
            for s in self.socks:
                try:
                    s.close()
                except OSError:
                    pass
        for t in self.threads:
            t.join(2)

    def _accept(self) -> None:
        self.lsock.settimeout(0.2)
        for _ in range(100000):
            if self.stop.is_set():
                return
            try:
                c, _ = self.lsock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.conns += 1
                n = self.conns
                self.socks.append(c)
            t = threading.Thread(target=self._serve, args=(c, n), daemon=True)
            self.threads.append(t)
            t.start()

    def _request(self, c: socket.socket, buf: bytes) -> tuple[str | None, bytes]:
        """One request (head and Content-Length body) -> (request line, rest)."""
        for _ in range(1000):
            if b"\r\n\r\n" in buf:
                break
            if self.stop.is_set():
                return None, b""
            try:
                d = c.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return None, b""
            if not d:
                return None, b""
            buf += d
        if b"\r\n\r\n" not in buf:
            return None, b""
        head, buf = buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        length = 0
        for ln in lines[1:]:
            k, _, v = ln.partition(":")
            if k.strip().lower() == "content-length":
                length = int(v.strip())
        for _ in range(1000):
            if len(buf) >= length:
                break
            d = c.recv(65536)
            if not d:
                return None, b""
            buf += d
        return lines[0], buf[length:]

    def _serve(self, c: socket.socket, n: int) -> None:
        c.settimeout(0.2)
        buf = b""
        served = 0
        try:
            for _ in range(1000):
                line, buf = self._request(c, buf)
                if line is None:
                    if not self.stop.is_set():
                        with self.lock:
                            self.peer_closed += 1
                    return
                with self.lock:
                    self.requests.append((n, line))
                    count = len(self.requests)
                if self.mode == "close-on-second" and served >= 1:
                    if self.rst:
                        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    return
                body = f"{self.name} {count}".encode()
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
                served += 1
                if self.mode == "close-after":
                    return
        finally:
            c.close()


def config(port, servers, balance=""):
    # One thread: HAProxy keeps its idle connections per thread.
    lines = ["global", "    maxconn 100", "    nbthread 1", HTTP_DEFAULTS, "frontend fe", f"    bind 127.0.0.1:{port}",
             "    log stdout format raw local0", "    option httplog", "    default_backend be", "",
             "backend be"]
    if balance:
        lines.append(f"    balance {balance}")
    lines += [f"    server {s.name} 127.0.0.1:{s.port}" for s in servers]
    return "\n".join(lines) + "\n"


def get(i, extra=""):
    return f"GET /r{i} HTTP/1.1\r\nHost: x\r\n{extra}\r\n".encode()


def run_client(port, requests, max_reconnects=20):
    """Sends `requests` (bytes each) one after the other on a keep-alive
    connection. A connection that closes before any byte of an answer is
    reopened and the request sent again, as HTTP clients do after a
    keep-alive close (bounded). Returns ([status per request], reconnects)."""
    statuses = []
    reconnects = 0
    c = Conn(port)
    try:
        for req in requests:
            for _ in range(max_reconnects + 1):
                try:
                    c.send(req)
                    r = read_response(c)
                except OSError:
                    r = None
                if r is not None:
                    statuses.append(r[0])
                    break
                check(c.eof and c.buf == b"", f"no answer, connection still open or partial: {c.buf!r}")
                c.close()
                reconnects += 1
                check(reconnects <= max_reconnects, "too many reconnections")
                c = Conn(port)
            if r is not None and r[1].get("connection", "").lower() == "close":
                c.close()
                c = Conn(port)
    finally:
        c.close()
    return statuses, reconnects


def test_server_closing_after_each_response_never_causes_a_502():
    with RawServer("s1", "close-after") as s:
        port = free_port()
        with Proxy(config(port, [s])) as p:
            statuses, _ = run_client(port, [get(i) for i in range(30)])
            check(statuses == [200] * 30, f"statuses {statuses}")
            check(" 502 " not in p.output(), f"a 502 was logged:\n{p.output()}")
        check(len(s.requests) >= 30, f"the server saw {len(s.requests)} requests")


def test_reused_connection_closed_by_the_server_is_never_a_502():
    # Each server connection answers once, then closes on the next request
    # it gets: every request that reuses a connection meets that close.
    for rst in (False, True):
        with RawServer("s1", "close-on-second", rst=rst) as s:
            port = free_port()
            with Proxy(config(port, [s])) as p:
                statuses, reconnects = run_client(port, [get(i) for i in range(6)])
                check(statuses == [200] * 6, f"rst={rst}: statuses {statuses}")
                check(" 502 " not in p.output(), f"rst={rst}: a 502 was logged:\n{p.output()}")
                if not is_haproxy():
                    # proxyd replays the GET on a fresh connection: the client
                    # never sees the close.
                    check(reconnects == 0, f"rst={rst}: the client had to reconnect {reconnects} times")
                    lines = [ln for ln in s.requests]
                    check([ln for _, ln in lines].count("GET /r3 HTTP/1.1") == 2,
                          f"rst={rst}: GET /r3 should reach the server twice: {lines}")


def test_post_on_a_reused_connection_closed_by_the_server_is_not_replayed():
    with RawServer("s1", "close-on-second") as s:
        port = free_port()
        with Proxy(config(port, [s])) as p, Conn(port) as c:
            c.send(get(0))
            r = read_response(c)
            check(r is not None and r[0] == 200, f"first request: {r!r}")
            c.send(b"POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
            r = read_response(c)
            check(r is None and c.eof and c.buf == b"",
                  f"the POST should end the client connection silently: {r!r} {c.buf!r}")
            time.sleep(0.2)
            check(" 502 " not in p.output(), f"a 502 was logged:\n{p.output()}")
        posts = [ln for _, ln in s.requests if ln.startswith("POST")]
        check(posts == ["POST /p HTTP/1.1"], f"the POST reached the server {len(posts)} times: {s.requests}")


def test_idle_server_connection_follows_the_client_between_servers():
    # Round robin over two servers: each request of one client goes to the
    # other server; the connection left idle is reused when its server comes
    # back, so each server sees one connection for all the requests.
    with RawServer("s1", "keep") as s1, RawServer("s2", "keep") as s2:
        port = free_port()
        with Proxy(config(port, [s1, s2], balance="roundrobin")), Conn(port) as c:
            names = []
            for i in range(8):
                c.send(get(i))
                r = read_response(c)
                check(r is not None and r[0] == 200, f"request {i}: {r!r}")
                names.append(r[2].split()[0].decode())
            check(sorted(set(names)) == ["s1", "s2"], f"servers {names}")
        check(s1.conns == 1 and s2.conns == 1, f"connections: s1 {s1.conns}, s2 {s2.conns}")


def test_client_asking_to_close_keeps_at_most_one_idle_server_connection():
    # Connection-per-request clients never reuse an idle connection (their
    # request is the first of their connection): the first server connection
    # stays idle, the later ones are closed with their client instead of
    # piling up (HAProxy keeps an idle connection only while the server has
    # none, or while fewer than it recently needed at once).
    with RawServer("s1", "keep") as s:
        port = free_port()
        with Proxy(config(port, [s])):
            for i in range(4):
                with Conn(port) as c:
                    c.send(get(i, "Connection: close\r\n"))
                    r = read_response(c)
                    check(r is not None and r[0] == 200, f"request {i}: {r!r}")
                    check(c.wait_closed(2.0) is not None, "the client connection stayed open")
            check(wait_until(lambda: s.peer_closed == 3, 2.0),
                  f"server connections closed by the proxy: {s.peer_closed} of {s.conns}, want 3 of 4")
            time.sleep(0.3)
            check(s.conns == 4 and s.peer_closed == 3, f"closed {s.peer_closed} of {s.conns}")


if __name__ == "__main__":
    run_tests(globals())
