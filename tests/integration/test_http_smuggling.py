#!/usr/bin/env python3
"""mode http: request-smuggling shapes are answered 400 and nothing reaches
the backend (CL+TE, TE+CL, two differing Content-Length, obs-fold, a bare
CR, a chunk size overflowing 64 bits or 2^52-1), and a clean request on the
same setup does reach it (the control).

Messages are forwarded as HAProxy 2.6 re-writes them, never as received
(issue 10), checked with a backend that records the raw bytes it gets (and
with a server that sends raw responses, for the response side): one
Content-Length, chunk-size lines re-encoded without extensions, no
Content-Length or Transfer-Encoding in trailers, HTTP/1.1 for HTTP/1.x,
no client Connection token naming a field for the next hop to strip, and
nothing of a refused message past its last valid byte, however it is split
across reads.

HAProxy 2.6 accepts three of the refused shapes where proxyd's parser is
stricter (see proxyd/http1.cc): with both Transfer-Encoding and
Content-Length it drops Content-Length and uses chunked, and it unfolds
obs-fold. It also keeps a Transfer-Encoding trailer and forwards a client's
Connection tokens other than close/keep-alive (so "Connection:
X-Forwarded-For" reaches the server next to the X-Forwarded-For it added).
Those parts are proxyd-only."""

import contextlib
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (HTTP_DEFAULTS, LOOPBACK, SRC, Conn, HttpBackend, Proxy, check,  # noqa: E402
                     free_port, http_exchange, is_haproxy, run_tests, skip_if_haproxy,
                     wait_until)


def config(port, backend_port, forwardfor=False):
    ff = "    option forwardfor\n" if forwardfor else ""
    return ("global\n    maxconn 100\n" + HTTP_DEFAULTS + f"frontend fe\n    bind 127.0.0.1:{port}\n"
            f"{ff}    default_backend be\nbackend be\n    server web1 127.0.0.1:{backend_port}\n")


class RawServer:
    """A backend on threads that records the raw bytes of each connection
    (`conns`, in accept order). Once `done(bytes so far)` is true it sends
    `response` and closes; `done=None` never answers (the proxy refuses the
    request and closes). Every read is bounded by `timeout`."""

    def __init__(self, response=b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", done=None,
                 timeout=3.0):
        self.response = response
        self.done = done
        self.timeout = timeout
        self.port = free_port()
        self.conns: list[bytes] = []
        self.open = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((LOOPBACK, self.port))
        self._sock.listen(64)
        self._sock.settimeout(0.05)
        self._threads = [threading.Thread(target=self._accept, daemon=True)]

    def __enter__(self):
        self._threads[0].start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        for t in list(self._threads):
            t.join(timeout=self.timeout + 1)
        self._sock.close()

    def snapshot(self) -> list[bytes]:
        with self._lock:
            return list(self.conns)

    def idle(self) -> bool:
        with self._lock:
            return self.open == 0

    def _accept(self):
        for _ in range(100000):
            if self._stop.is_set():
                return
            try:
                c, _ = self._sock.accept()
            except socket.timeout:
                continue
            with self._lock:
                idx = len(self.conns)
                self.conns.append(b"")
                self.open += 1
            t = threading.Thread(target=self._serve, args=(c, idx), daemon=True)
            self._threads.append(t)
            t.start()

    def _serve(self, c, idx):
        c.settimeout(0.05)
        deadline = time.monotonic() + self.timeout
        try:
            while time.monotonic() < deadline and not self._stop.is_set():
                try:
                    d = c.recv(65536)
                except socket.timeout:
                    continue
                except OSError:
                    break
                if not d:
                    break
                with self._lock:
                    self.conns[idx] += d
                    got = self.conns[idx]
                if self.done is not None and self.done(got):
                    with contextlib.suppress(OSError):
                        c.sendall(self.response)
                    break
        finally:
            c.close()
            with self._lock:
                self.open -= 1


def chunked_done(got: bytes) -> bool:
    """A head then a chunked body, complete (its last CRLF CRLF arrived)."""
    return got.count(b"\r\n\r\n") >= 2


def forward(raw: bytes, done, response=None, forwardfor=False) -> tuple[bytes, bytes]:
    """Sends `raw` through the proxy to a RawServer; returns (what the client
    got, what the server got)."""
    kw = {"response": response} if response is not None else {}
    with RawServer(done=done, **kw) as srv:
        port = free_port()
        with Proxy(config(port, srv.port, forwardfor)):
            with Conn(port, timeout=3.0) as c:
                c.send(raw)
                # Until the proxy closes, or the default response is in (a
                # keep-alive request leaves the connection open).
                deadline = time.monotonic() + 3.0
                for _ in range(1000):
                    if c.eof or time.monotonic() > deadline or (response is None and c.buf.endswith(b"ok")):
                        break
                    c._fill(0.1)
                out = c.buf
            wait_until(srv.idle, 2.0)
        got = srv.snapshot()
    check(len(got) == 1, f"the server saw {len(got)} connections")
    return out, got[0]


def split_head(msg: bytes) -> tuple[list[tuple[str, str]], bytes, bytes]:
    """(fields as (lower-cased name, value), start line, body) of a message."""
    head, _, body = msg.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    fields = []
    for ln in lines[1:]:
        k, _, v = ln.partition(":")
        fields.append((k.strip().lower(), v.strip()))
    return fields, lines[0].encode(), body


def refused(raw: bytes):
    """Sends `raw`; checks the answer is 400 and the backend saw nothing."""
    with HttpBackend("web1") as b:
        port = free_port()
        with Proxy(config(port, b.port)):
            out = http_exchange(port, raw, timeout=2.0)
            time.sleep(0.1)
        check(out.startswith(b"HTTP/1.1 400 "), f"answer {out[:100]!r}")
        check(b.accepted == 0 and not b.snapshot(),
              f"the backend saw {b.accepted} connections, requests {b.snapshot()!r}")


def test_control_a_clean_request_reaches_the_backend():
    with HttpBackend("web1") as b:
        port = free_port()
        with Proxy(config(port, b.port)):
            out = http_exchange(port, b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
                                      b"Connection: close\r\n\r\nabc")
    check(out.startswith(b"HTTP/1.1 200 "), f"answer {out[:100]!r}")
    check(len(b.snapshot()) == 1 and b.snapshot()[0]["body"] == b"abc", f"{b.snapshot()!r}")


def test_content_length_then_transfer_encoding_is_refused():
    skip_if_haproxy("HAProxy drops Content-Length and uses chunked")
    refused(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n")


def test_transfer_encoding_then_content_length_is_refused():
    skip_if_haproxy("HAProxy drops Content-Length and uses chunked")
    refused(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 40\r\n\r\n"
            b"0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n")


def test_two_differing_content_lengths_are_refused():
    refused(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd")


def test_obs_fold_is_refused():
    skip_if_haproxy("HAProxy unfolds obs-fold")
    refused(b"GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n")


def test_bare_cr_in_a_field_is_refused():
    refused(b"GET / HTTP/1.1\r\nHost: a\r\nX-A: b\rc\r\n\r\n")


def test_chunk_size_overflow_is_refused():
    refused(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"FFFFFFFFFFFFFFFFF1\r\nabc\r\n0\r\n\r\n")


CHUNKED = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
WS_KEY = b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"


def test_chunk_size_above_2_52_is_refused():
    # HAProxy's bound (13 hex digits), so that no hop reads a size as a
    # double and gets another one.
    refused(CHUNKED + b"10000000000000\r\nabc\r\n0\r\n\r\n")
    refused(CHUNKED + b"ffffffffffffffff\r\nabc\r\n0\r\n\r\n")


def test_repeated_content_length_goes_on_as_one_field():
    for cl in (b"Content-Length: 5, 5\r\n", b"Content-Length: 5\r\ncontent-length: 5\r\n"):
        out, got = forward(b"POST / HTTP/1.1\r\nHost: a\r\n" + cl + b"Connection: close\r\n\r\nhello",
                           lambda g: g.endswith(b"hello"))
        check(out.startswith(b"HTTP/1.1 200 "), f"answer {out[:100]!r}")
        fields, _, body = split_head(got)
        cls = [v for k, v in fields if k == "content-length"]
        check(cls == ["5"] and body == b"hello", f"the server got {got!r}")


def test_chunk_size_lines_go_on_re_encoded():
    out, got = forward(CHUNKED + b"005 ;x=y\r\nhello\r\n0;z\r\n\r\n", chunked_done)
    check(out.startswith(b"HTTP/1.1 200 "), f"answer {out[:100]!r}")
    check(got.endswith(b"\r\n\r\n5\r\nhello\r\n0\r\n\r\n"), f"the server got {got!r}")


def test_framing_fields_in_trailers_are_dropped():
    out, got = forward(CHUNKED + b"2\r\nab\r\n0\r\nX-T: 1\r\nContent-Length: 7\r\n"
                                 b"Transfer-Encoding: chunked\r\nY: 2\r\n\r\n", chunked_done)
    check(out.startswith(b"HTTP/1.1 200 "), f"answer {out[:100]!r}")
    trailers = got.split(b"\r\n0\r\n", 1)[1].lower()
    check(b"x-t: 1\r\n" in trailers and b"y: 2\r\n" in trailers, f"the server got {got!r}")
    check(b"content-length" not in trailers, f"the server got {got!r}")
    if not is_haproxy():  # HAProxy 2.6 keeps a Transfer-Encoding trailer
        check(b"transfer-encoding" not in trailers, f"the server got {got!r}")


def test_a_later_http_1_minor_goes_on_as_http_1_1_and_1_0_as_is():
    for version, sent in ((b"HTTP/1.9", b"HTTP/1.1"), (b"HTTP/1.0", b"HTTP/1.0")):
        out, got = forward(b"GET / " + version + b"\r\nHost: a\r\n\r\n", lambda g: b"\r\n\r\n" in g)
        check(b" 200 " in out[:20], f"answer {out[:100]!r}")
        _, line, _ = split_head(got)
        check(line == b"GET / " + sent, f"{version!r}: the server got {got!r}")


def connection_tokens(got: bytes) -> list[str]:
    fields, _, _ = split_head(got)
    return [t.strip().lower() for k, v in fields if k == "connection" for t in v.split(",")]


def test_client_connection_tokens_never_name_an_added_field():
    # "Connection: X-Forwarded-For" would have the next hop strip the
    # X-Forwarded-For this proxy added. HAProxy 2.6 forwards such tokens
    # (it drops only close and keep-alive); proxyd says what its own hop
    # does and nothing else. A websocket key: HAProxy refuses an upgrade
    # to websocket without one.
    skip_if_haproxy("HAProxy 2.6 forwards the client's other Connection tokens")
    for conn, upgrade in ((b"Upgrade, X-Forwarded-For", b"Upgrade: websocket\r\n" + WS_KEY),
                          (b"X-Forwarded-For, keep-alive", b"")):
        out, got = forward(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: " + conn + b"\r\n" + upgrade +
                           b"\r\n", lambda g: b"\r\n\r\n" in g, forwardfor=True)
        fields, _, _ = split_head(got)
        check(("x-forwarded-for", "127.0.0.1") in fields, f"the server got {got!r}")
        tokens = connection_tokens(got)
        check("x-forwarded-for" not in tokens, f"the server got Connection tokens {tokens}")
        if upgrade:
            check(tokens == ["upgrade"], f"the server got Connection tokens {tokens}")


def test_a_websocket_upgrade_without_its_key_is_refused():
    # What HAProxy 2.6 answers to "Connection: Upgrade, X-Forwarded-For" with
    # "Upgrade: websocket" and no key: the key is missing, the tokens are fine.
    refused(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, X-Forwarded-For\r\n"
            b"Upgrade: websocket\r\n\r\n")
    refused(b"GET / HTTP/1.0\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n")


def test_a_websocket_switch_without_its_accept_is_answered_502():
    out, _ = forward(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
                     WS_KEY + b"\r\n", lambda g: b"\r\n\r\n" in g,
                     response=b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                              b"Connection: Upgrade\r\n\r\n")
    check(out.startswith(b"HTTP/1.1 502 "), f"answer {out[:100]!r}")


def test_nothing_of_a_long_chunk_extension_reaches_the_server():
    # 20 000 bytes of extension: refused once the line passes the buffer
    # size; not a byte of it may have gone on before (16 KiB did).
    with RawServer(done=None) as srv:
        port = free_port()
        with Proxy(config(port, srv.port)):
            out = http_exchange(port, CHUNKED + b"1\r\nx\r\n5;a=" + b"b" * 20000 +
                                b"\r\nhello\r\n0\r\n\r\n", timeout=3.0)
            wait_until(srv.idle, 2.0)
        got = b"".join(srv.snapshot())
    check(out.startswith(b"HTTP/1.1 400 "), f"answer {out[:100]!r}")
    check(b"5;a=" not in got and b"bbbb" not in got, f"the server got {len(got)} bytes: {got[:200]!r}")


# ---------------------------------------------------------------- responses

GET = b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"


def respond(raw_response: bytes) -> bytes:
    """What the client gets when the server answers `raw_response`."""
    out, _ = forward(GET, lambda g: b"\r\n\r\n" in g, response=raw_response)
    return out


def test_response_chunk_size_above_2_52_is_answered_502():
    out = respond(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000\r\nok\r\n0\r\n\r\n")
    check(out.startswith(b"HTTP/1.1 502 "), f"answer {out[:200]!r}")


def test_response_framing_is_re_encoded():
    out = respond(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n02;a=b\r\nok\r\n0;x\r\n"
                  b"X-T: 1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n")
    check(out.startswith(b"HTTP/1.1 200 "), f"answer {out[:200]!r}")
    _, _, body = split_head(out)
    check(body.startswith(b"2\r\nok\r\n0\r\n") and body.endswith(b"\r\n\r\n"), f"body {body!r}")
    check(b"x-t: 1" in body.lower() and b"content-length" not in body.lower(), f"body {body!r}")
    if not is_haproxy():  # HAProxy 2.6 keeps a Transfer-Encoding trailer
        check(b"transfer-encoding" not in body.lower(), f"body {body!r}")


def test_response_head_goes_on_normalised():
    out = respond(b"HTTP/1.9 200 OK\r\nContent-Length: 2, 2\r\nContent-Length: 2\r\n\r\nok")
    fields, line, body = split_head(out)
    check(line == b"HTTP/1.1 200 OK", f"answer {out!r}")
    check([v for k, v in fields if k == "content-length"] == ["2"] and body == b"ok", f"answer {out!r}")
    out = respond(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok")
    check(out.startswith(b"HTTP/1.0 200 OK\r\n"), f"answer {out!r}")


# ------------------------------------------------ refused messages, split

def reencoded(body: bytes) -> tuple[bytes, bytes]:
    """A chunked body's prefix as it goes on (complete lines re-encoded,
    trailers without Content-Length/Transfer-Encoding) and its payload."""
    out, payload, i = b"", b"", 0
    for _ in range(10000):
        eol = body.find(b"\r\n", i)
        if eol < 0:
            return out, payload
        size = int(body[i:eol].split(b";")[0].strip(b" \t"), 16)
        out += b"%X\r\n" % size
        i = eol + 2
        if size == 0:
            for _ in range(10000):
                eol = body.find(b"\r\n", i)
                if eol < 0:
                    return out, payload
                line, i = body[i:eol], eol + 2
                if not line:
                    return out + b"\r\n", payload
                if line.split(b":")[0].lower() not in (b"content-length", b"transfer-encoding"):
                    out += line + b"\r\n"
        data = body[i:i + size]
        out, payload, i = out + data, payload + data, i + len(data)
        if len(data) < size or body[i:i + 2] != b"\r\n":
            return out, payload
        out, i = out + b"\r\n", i + 2
    return out, payload


def dechunked(body: bytes) -> bytes:
    """The payload of a (possibly cut) chunked body."""
    payload, i = b"", 0
    for _ in range(10000):
        eol = body.find(b"\r\n", i)
        if eol < 0:
            break
        size = int(body[i:eol].split(b";")[0].strip(), 16)
        if size == 0:
            break
        payload += body[eol + 2:eol + 2 + size]
        i = eol + 2 + size + 2
    return payload


def corpus_refused_requests() -> list[tuple[str, bytes, int]]:
    """(name, bytes, error offset) of tests/data/http's refused requests
    under 4 KiB (the limit ones are checked by the unit tests)."""
    out = []
    with open(os.path.join(SRC, "tests", "data", "http", "expected.txt")) as f:
        for line in f:
            parts = line.split()
            if len(parts) != 4 or not parts[0].startswith("invalid/request/"):
                continue
            with open(os.path.join(SRC, "tests", "data", "http", parts[0]), "rb") as g:
                data = g.read()
            if len(data) < 4096:
                out.append((parts[0].split("/")[-1], data, int(parts[2])))
    return out


def test_a_refused_request_split_in_two_forwards_nothing_past_its_last_valid_byte():
    # Each refused request of the corpus, in two writes with a pause between
    # them (so the proxy reads them apart), at split points around the end
    # of the head and the offending byte and through the body: a request
    # refused in its head never reaches the server; one refused in its body
    # reaches it with at most the validated part of the body (re-encoded).
    cases = corpus_refused_requests()
    check(len(cases) >= 40, f"{len(cases)} corpus files")

    def send(port, data, cut):
        with Conn(port, timeout=2.0) as c:
            c.send(data[:cut])
            if cut < len(data):
                time.sleep(0.03)
                with contextlib.suppress(OSError):
                    c.send(data[cut:])
            c.wait_closed(1.0 if is_haproxy() else 2.0)
            return c.buf

    def refusal(out):
        return out[:9] == b"HTTP/1.1 " and out[9:10] in (b"4", b"5")

    with RawServer(done=None) as srv:
        port = free_port()
        with Proxy(config(port, srv.port)):
            for name, data, err in cases:
                head_end = data.find(b"\r\n\r\n") + 4
                in_head = head_end < 4 or err < head_end
                if is_haproxy():
                    # A shape HAProxy accepts where proxyd is stricter (bare
                    # LF, obs-fold, CL with TE...): nothing to check.
                    before = len(srv.snapshot())
                    out = send(port, data, len(data))
                    wait_until(srv.idle, 2.0)
                    if not refusal(out) or (in_head and any(srv.snapshot()[before:])):
                        continue
                points = {1, len(data) // 2, err - 1, err, err + 1, head_end - 1, head_end, head_end + 1}
                if not in_head:
                    points |= set(range(head_end, len(data)))
                for cut in sorted(p for p in points if 0 < p < len(data)):
                    before = len(srv.snapshot())
                    out = send(port, data, cut)
                    check(wait_until(srv.idle, 2.0), f"{name} cut {cut}: the server connection lingers")
                    got = b"".join(srv.snapshot()[before:])
                    check(refusal(out), f"{name} cut {cut}: answer {out[:80]!r}")
                    if in_head and is_haproxy():
                        # HAProxy takes some of these heads (CL with TE: it
                        # drops CL) and refuses the body: none of it may pass.
                        check(split_head(got)[2] == b"", f"{name} cut {cut}: the server got {got!r}")
                        continue
                    if in_head:
                        check(got == b"", f"{name} cut {cut}: the server got {got!r}")
                        continue
                    _, _, body = split_head(got)
                    canon, payload = reencoded(data[head_end:err])
                    if is_haproxy():  # it re-chunks what it has: compare payloads
                        check(payload.startswith(dechunked(body)), f"{name} cut {cut}: the server got {got!r}")
                    else:
                        check(canon.startswith(body), f"{name} cut {cut}: the server got {got!r}, "
                                                      f"at most {canon!r}")


if __name__ == "__main__":
    run_tests(globals())
