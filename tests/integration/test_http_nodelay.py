#!/usr/bin/env python3
"""option http-no-delay: a body the server sends in pieces with pauses
reaches the client piece by piece at once (HAProxy 2.6: without the option
the proxy may hold an incomplete message's bytes up to ~200 ms to send
fuller segments; with it, never)."""
import contextlib
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Proxy, check, free_port, run_tests  # noqa: E402

PAUSE = 0.8


class PausingServer:
    """Answers each request with a chunked body: a first chunk, a pause,
    the last chunk. A thread per connection; at most 500 connections."""

    def __init__(self):
        self.port = free_port()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", self.port))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.stop = threading.Event()
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self) -> None:
        for _ in range(500):  # bounded
            if self.stop.is_set():
                return
            try:
                c, _ = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    def serve(self, c: socket.socket) -> None:
        with c:
            c.settimeout(2)
            try:
                data = b""
                while b"\r\n\r\n" not in data and len(data) < 65536:
                    d = c.recv(4096)
                    if not d:
                        break
                    data += d
                c.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                          b"Connection: close\r\n\r\n5\r\nfirst\r\n")
                time.sleep(PAUSE)
                c.sendall(b"4\r\nlast\r\n0\r\n\r\n")
            except OSError:
                pass

    def close(self) -> None:
        self.stop.set()
        self.t.join(timeout=3)
        self.sock.close()


def first_piece_delay(port: int) -> float:
    """Seconds from the request to the first chunk's bytes at the client."""
    with socket.create_connection(("127.0.0.1", port), timeout=3) as s:
        t0 = time.monotonic()
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        data = b""
        deadline = t0 + 3
        while b"first" not in data and time.monotonic() < deadline:
            d = s.recv(4096)
            if not d:
                break
            data += d
        check(b"first" in data, f"first chunk never arrived: {data!r}")
        return time.monotonic() - t0


def config(port: int, srv: int, nodelay: bool) -> str:
    return ("global\n    nbthread 1\n"
            "defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n"
            "    timeout server 5s\n"
            + ("    option http-no-delay\n" if nodelay else "")
            + f"frontend fe\n    bind 127.0.0.1:{port}\n    default_backend be\n"
            f"backend be\n    server s1 127.0.0.1:{srv}\n")


@contextlib.contextmanager
def server():
    s = PausingServer()
    try:
        yield s
    finally:
        s.close()


def test_no_delay_forwards_each_piece_at_once():
    with server() as srv:
        port = free_port()
        with Proxy(config(port, srv.port, nodelay=True)):
            delays = [first_piece_delay(port) for _ in range(3)]
        print(f"  first piece with http-no-delay: {', '.join(f'{d * 1000:.0f} ms' for d in delays)}")
        check(max(delays) < 0.15, f"with http-no-delay a piece waited: {delays}")
        port = free_port()
        with Proxy(config(port, srv.port, nodelay=False)):
            delays = [first_piece_delay(port) for _ in range(3)]
        print(f"  first piece without it: {', '.join(f'{d * 1000:.0f} ms' for d in delays)}")
        # Without the option the piece may be held a little, never until the
        # rest of the body comes.
        check(max(delays) < PAUSE, f"a piece waited for the rest of the body: {delays}")


if __name__ == "__main__":
    run_tests(globals())
