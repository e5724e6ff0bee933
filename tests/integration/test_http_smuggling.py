#!/usr/bin/env python3
"""mode http: request-smuggling shapes are answered 400 and nothing reaches
the backend (CL+TE, TE+CL, two differing Content-Length, obs-fold, a bare
CR, a chunk size overflowing 64 bits), and a clean request on the same
setup does reach it (the control).

HAProxy 2.6 accepts three of these shapes where proxyd's parser is
stricter (see proxyd/http1.cc): with both Transfer-Encoding and
Content-Length it drops Content-Length and uses chunked, and it unfolds
obs-fold. Those parts are proxyd-only."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (HTTP_DEFAULTS, HttpBackend, Proxy, check, free_port,  # noqa: E402
                     http_exchange, run_tests, skip_if_haproxy)


def config(port, backend_port):
    return ("global\n    maxconn 100\n" + HTTP_DEFAULTS + f"frontend fe\n    bind 127.0.0.1:{port}\n"
            f"    default_backend be\nbackend be\n    server web1 127.0.0.1:{backend_port}\n")


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


if __name__ == "__main__":
    run_tests(globals())
