#!/usr/bin/env python3
"""The responses the proxy writes itself, byte for byte as HAProxy 2.6 sends
them (captured from haproxy 2.6.12 on raw sockets, and re-checked with
PROXYD=/usr/sbin/haproxy): the H1 layer's raw pages for requests it cannot
parse and for timeout http-request (400, 408), the built-in pages in their
internal form (403, 500, 502, 503, 504), `connection: close` appended when
the request asked to close, errorfiles (backend, then frontend; names
lower-cased), `http-request return` and `redirect`."""

import os
import socket
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Proxy, check, free_port, run_tests  # noqa: E402


def page(status, reason, text, raw=False, close=False):
    """A built-in page: `raw` in the H1 layer's form, else the internal one;
    `close` appends the connection: close field."""
    title = f"{status} {reason}"
    body = f"<html><body><h1>{title}</h1>\n{text}\n</body></html>\n".encode()
    if raw:
        head = (f"HTTP/1.1 {title}\r\nContent-length: {len(body)}\r\n"
                "Cache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n")
    else:
        head = (f"HTTP/1.1 {title}\r\ncontent-length: {len(body)}\r\n"
                "cache-control: no-cache\r\ncontent-type: text/html\r\n")
        if close:
            head += "connection: close\r\n"
    return head.encode() + b"\r\n" + body


BAD_400 = page(400, "Bad request", "Your browser sent an invalid request.", raw=True)
TIMEOUT_408 = page(408, "Request Time-out", "Your browser didn't send a complete request in time.",
                   raw=True)
DENY = ("Forbidden", "Request forbidden by administrative rules.")
ERR_500 = ("Internal Server Error", "An internal server error occurred.")
ERR_502 = ("Bad Gateway", "The server returned an invalid or incomplete response.")
ERR_503 = ("Service Unavailable", "No server is available to handle this request.")
ERR_504 = ("Gateway Time-out", "The server didn't respond in time.")


class Servers:
    """A server answering garbage, and one that accepts and stays silent."""

    def __init__(self):
        self.garbage = self._listen(self._garbage)
        self.silent = self._listen(None)
        self.conns = []

    def _listen(self, handler):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        s.settimeout(0.05)
        stop = threading.Event()
        t = threading.Thread(target=self._accept, args=(s, handler, stop), daemon=True)
        t.start()
        return (s, stop, t)

    def _accept(self, s, handler, stop):
        while not stop.is_set():
            try:
                c, _ = s.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.conns.append(c)
            if handler:
                handler(c)

    @staticmethod
    def _garbage(c):
        try:
            c.settimeout(2)
            c.recv(65536)
            c.sendall(b"garbage\x01\r\n\r\n")
        except OSError:
            pass

    def port(self, which):
        return getattr(self, which)[0].getsockname()[1]

    def stop(self):
        for s, stop, t in (self.garbage, self.silent):
            stop.set()
            t.join(1)
            s.close()
        for c in self.conns:
            c.close()


def config(port, port_close, srv, dead_port, errdir):
    return f"""\
global
    maxconn 100

defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 500ms
    timeout http-request 500ms

frontend fe
    bind 127.0.0.1:{port}
    errorfile 400 {errdir}/400.http
    errorfile 503 {errdir}/503.http
    http-request deny if {{ path /deny }}
    http-request deny deny_status 500 if {{ path /d500 }}
    http-request return status 200 content-type text/plain string "hello" if {{ path /ret }}
    http-request return status 404 if {{ path /ret404 }}
    http-request return status 503 content-type text/html string "<b>x</b>" hdr X-A b if {{ path /rethdr }}
    http-request redirect location /new if {{ path /redir }}
    http-request deny deny_status 400 if {{ path /d400 }}
    http-request return status 200 content-type text/plain file {errdir}/body.txt if {{ path /file }}
    http-request return status 503 errorfile {errdir}/503.http if {{ path /ref }}
    http-request redirect code 301 location /moved if {{ path /r301 }}
    http-request redirect prefix /p if {{ path /rp }}
    http-request redirect scheme https if {{ path /rs }}
    use_backend garbage if {{ path /502 }}
    use_backend silent if {{ path /504 }}
    use_backend none_ef if {{ path /ef }}
    default_backend none

frontend fc
    bind 127.0.0.1:{port_close}
    option httpclose
    http-request deny if {{ path /deny }}
    default_backend none

backend none
    retries 0
    server s1 127.0.0.1:{dead_port}

backend none_ef
    retries 0
    errorfile 503 {errdir}/503be.http
    server s1 127.0.0.1:{dead_port}

backend garbage
    server s1 127.0.0.1:{srv.port("garbage")}

backend silent
    server s1 127.0.0.1:{srv.port("silent")}
"""


def exchange(port, request, timeout=4.0):
    """Sends `request` and reads one response: until EOF, or until the head
    and the content-length body are in (keep-alive)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        if request:
            s.sendall(request)
        data = b""
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                chunk = s.recv(65536)
            except (socket.timeout, ConnectionResetError):
                break
            if not chunk:
                break
            data += chunk
            head, sep, body = data.partition(b"\r\n\r\n")
            if sep:
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length" and len(body) >= int(value):
                        return data
        return data


CASES = [
    # (name, frontend, request, expected bytes)
    ("400 bad request line", "fe", b"BAD\r\n\r\n", BAD_400),
    ("400 bad header, errorfile 400 not used", "fe",
     b"GET / HTTP/1.0\r\nBad header\r\n\r\n", BAD_400),
    ("400 bad chunk size", "fe",
     b"POST /504 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n\r\n", BAD_400),
    ("400 request line over the buffer", "fe",
     b"GET /" + b"a" * 17000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", BAD_400),
    ("408 incomplete head", "fe", b"GET / HTTP/1.1\r\n", TIMEOUT_408),
    ("408 nothing sent", "fe", b"", TIMEOUT_408),
    ("403 keep-alive request", "fe", b"GET /deny HTTP/1.1\r\nHost: x\r\n\r\n", page(403, *DENY)),
    ("403 Connection: close", "fe",
     b"GET /deny HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", page(403, *DENY, close=True)),
    ("403 HTTP/1.0", "fe", b"GET /deny HTTP/1.0\r\n\r\n", page(403, *DENY, close=True)),
    ("403 option httpclose", "fc", b"GET /deny HTTP/1.1\r\nHost: x\r\n\r\n",
     page(403, *DENY, close=True)),
    ("500 deny_status", "fe", b"GET /d500 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
     page(500, *ERR_500, close=True)),
    ("502 garbage from the server", "fe", b"GET /502 HTTP/1.1\r\nHost: x\r\n\r\n",
     page(502, *ERR_502)),
    ("502 HTTP/1.0", "fe", b"GET /502 HTTP/1.0\r\n\r\n", page(502, *ERR_502, close=True)),
    ("503 frontend errorfile, HTX form", "fe", b"GET / HTTP/1.0\r\n\r\n",
     b"HTTP/1.1 503 Down\r\nx-custom: Yes\r\ncontent-length: 4\r\nconnection: close\r\n\r\ndown"),
    ("503 backend errorfile first", "fe", b"GET /ef HTTP/1.1\r\nHost: x\r\n\r\n",
     b"HTTP/1.1 503 Backend Down\r\ncontent-length: 2\r\n\r\nbe"),
    ("504 silent server", "fe", b"GET /504 HTTP/1.1\r\nHost: x\r\n\r\n", page(504, *ERR_504)),
    ("504 Connection: close", "fe", b"GET /504 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
     page(504, *ERR_504, close=True)),
    ("return string", "fe", b"GET /ret HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
     b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-type: text/plain\r\n"
     b"connection: close\r\n\r\nhello"),
    ("return keep-alive", "fe", b"GET /ret HTTP/1.1\r\nHost: x\r\n\r\n",
     b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-type: text/plain\r\n\r\nhello"),
    ("return without body", "fe", b"GET /ret404 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
     b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"),
    ("return with hdr", "fe", b"GET /rethdr HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
     b"HTTP/1.1 503 Service Unavailable\r\nx-a: b\r\ncontent-length: 8\r\n"
     b"content-type: text/html\r\nconnection: close\r\n\r\n<b>x</b>"),
    ("400 deny_status: the errorfile the H1 layer ignores", "fe",
     b"GET /d400 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
     b"HTTP/1.1 400 Bad\r\nx-custom: Yes\r\ncontent-length: 3\r\nconnection: close\r\n\r\nbad"),
    ("return file", "fe", b"GET /file HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
     b"HTTP/1.1 200 OK\r\ncontent-length: 11\r\ncontent-type: text/plain\r\n"
     b"connection: close\r\n\r\nhello file\n"),
    ("return errorfile", "fe", b"GET /ref HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
     b"HTTP/1.1 503 Down\r\nx-custom: Yes\r\ncontent-length: 4\r\nconnection: close\r\n\r\ndown"),
    ("redirect 301", "fe", b"GET /r301 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
     b"HTTP/1.1 301 Moved Permanently\r\ncontent-length: 0\r\nlocation: /moved\r\n"
     b"connection: close\r\n\r\n"),
    ("redirect prefix", "fe", b"GET /rp HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
     b"HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: /p/rp\r\ncache-control: no-cache\r\n"
     b"connection: close\r\n\r\n"),
    ("redirect scheme", "fe", b"GET /rs HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
     b"HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: https://x/rs\r\n"
     b"cache-control: no-cache\r\nconnection: close\r\n\r\n"),
    ("redirect", "fe", b"GET /redir HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
     b"HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: /new\r\ncache-control: no-cache\r\n"
     b"connection: close\r\n\r\n"),
]


def test_generated_responses_are_haproxys_bytes():
    srv = Servers()
    with tempfile.TemporaryDirectory() as errdir:
        with open(os.path.join(errdir, "400.http"), "wb") as f:
            f.write(b"HTTP/1.1 400 Bad\r\nX-Custom: Yes\r\nContent-Length: 3\r\n"
                    b"Connection: close\r\n\r\nbad")
        with open(os.path.join(errdir, "503.http"), "wb") as f:
            f.write(b"HTTP/1.1 503 Down\r\nX-Custom: Yes\r\nContent-Length: 4\r\n\r\ndown")
        with open(os.path.join(errdir, "body.txt"), "wb") as f:
            f.write(b"hello file\n")
        with open(os.path.join(errdir, "503be.http"), "wb") as f:
            f.write(b"HTTP/1.1 503 Backend Down\r\nContent-Length: 2\r\n\r\nbe")
        ports = {"fe": free_port(), "fc": free_port()}
        try:
            with Proxy(config(ports["fe"], ports["fc"], srv, free_port(), errdir)):
                failures = []
                for name, fe, request, want in CASES:
                    got = exchange(ports[fe], request)
                    if got != want:
                        failures.append(f"{name}:\n  got  {got!r}\n  want {want!r}")
                check(not failures, "\n".join(failures))
        finally:
            srv.stop()


if __name__ == "__main__":
    run_tests(globals())
