#!/usr/bin/env python3
"""Connection limits, queueing, half-close and idle timeouts in TCP mode."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (TCP_DEFAULTS, Conn, Proxy, backends, check, free_port,  # noqa: E402
                     global_section, listen_tcp, run_tests, wait_until)


def config(port, servers, *options, defaults=TCP_DEFAULTS):
    return global_section() + defaults + listen_tcp("app", port, servers, *options)


def test_server_maxconn_1_queues_second_connection_until_first_closes():
    defaults = TCP_DEFAULTS + "    timeout queue 5s\n"
    with backends("web1") as (w1,):
        port = free_port()
        with Proxy(config(port, [("web1", w1.port, "maxconn 1")], defaults=defaults)):
            first = Conn(port)
            check(first.line(2.0) == "web1", "first connection not served")
            second = Conn(port)
            try:
                check(second.line(0.7) is None, "second connection served while the first is open")
                check(w1.accepted == 1, f"backend saw {w1.accepted} connections, want 1")
                first.close()
                t0 = time.monotonic()
                got = second.line(2.0)
                check(got == "web1", f"queued connection got {got!r} after the first closed")
                check(time.monotonic() - t0 < 1.0, "queued connection served late")
            finally:
                first.close()
                second.close()


def test_timeout_queue_closes_a_queued_connection():
    defaults = TCP_DEFAULTS + "    timeout queue 500ms\n"
    with backends("web1") as (w1,):
        port = free_port()
        with Proxy(config(port, [("web1", w1.port, "maxconn 1")], defaults=defaults)):
            with Conn(port) as first:
                check(first.line(2.0) == "web1", "first connection not served")
                second = Conn(port)
                closed_after = second.wait_closed(3.0)
                check(closed_after is not None, "queued connection still open after 3 s")
                check(0.3 <= closed_after <= 2.0, f"queued connection closed after {closed_after:.2f}s")
                check(b"web1" not in second.buf, "queued connection reached the server")
                # The first one is unaffected.
                first.send(b"ping\n")
                check(first.line(2.0) == "ping", "first connection broken by the queue timeout")
                second.close()


def test_frontend_maxconn_leaves_extra_connections_in_backlog_then_resumes():
    with backends("web1") as (w1,):
        port = free_port()
        with Proxy(config(port, [("web1", w1.port, "")], "maxconn 2")):
            a, b = Conn(port), Conn(port)
            c = None
            try:
                check(a.line(2.0) == "web1" and b.line(2.0) == "web1", "first two not served")
                # The kernel completes the handshake (backlog) but the proxy
                # must not accept/serve it: no greeting, no backend connection.
                c = Conn(port)
                check(c.line(0.7) is None, "third connection served beyond frontend maxconn 2")
                check(w1.accepted == 2, f"backend saw {w1.accepted} connections, want 2")
                check(not c.eof, "third connection closed instead of waiting")
                a.close()
                got = c.line(2.0)
                check(got == "web1", f"third connection got {got!r} after a slot freed")
                check(wait_until(lambda: w1.accepted == 3, 1.0), "backend did not see the third")
            finally:
                for x in (a, b, c):
                    if x:
                        x.close()


def test_half_close_is_forwarded_and_reply_still_arrives():
    with backends("web1") as (w1,):
        port = free_port()
        with Proxy(config(port, [("web1", w1.port, "")])):
            with Conn(port) as c:
                check(c.line(2.0) == "web1", "no greeting")
                c.send(b"hello\n")
                check(c.line(2.0) == "hello", "no echo")
                c.shut_wr()
                # The backend answers EOF with a last line, then closes.
                got = c.line(2.0)
                check(got == "EOF:web1", f"after SHUT_WR got {got!r}")
                check(w1.eofs == 1, f"backend saw {w1.eofs} EOFs")
                check(c.wait_closed(2.0) is not None, "connection not closed after the backend closed")


def test_half_close_keeps_server_to_client_direction_open():
    # The backend neither answers nor closes after the client's EOF: the proxy
    # must forward the FIN yet keep both connections open.
    with backends("web1", mode="silent") as (w1,):
        port = free_port()
        with Proxy(config(port, [("web1", w1.port, "")])):
            with Conn(port) as c:
                # Data first, so the server side is established and flowing
                # before the FIN (a FIN racing the connect may abort it).
                c.send(b"hello\n")
                check(wait_until(lambda: w1.received == 6, 2.0), "data not forwarded to the backend")
                c.shut_wr()
                check(wait_until(lambda: w1.eofs == 1, 2.0), "client's FIN not forwarded to the backend")
                time.sleep(0.5)
                check(c.wait_closed(0.05) is None, "client connection closed after a half-close")
                check(w1.active == 1, "server side closed after the client's half-close")


def test_timeout_client_closes_an_idle_connection():
    defaults = TCP_DEFAULTS.replace("timeout client 10s", "timeout client 500ms")
    with backends("web1") as (w1,):
        port = free_port()
        with Proxy(config(port, [("web1", w1.port, "")], defaults=defaults)):
            with Conn(port) as c:
                check(c.line(2.0) == "web1", "no greeting")
                closed_after = c.wait_closed(3.0)
                check(closed_after is not None, "idle connection still open after 3 s")
                check(0.3 <= closed_after <= 2.0, f"idle connection closed after {closed_after:.2f}s")
                check(wait_until(lambda: w1.active == 0, 2.0), "server side left open")


def test_active_connection_outlives_timeout_client():
    # Control for the test above: traffic resets the inactivity timer.
    defaults = TCP_DEFAULTS.replace("timeout client 10s", "timeout client 500ms")
    with backends("web1") as (w1,):
        port = free_port()
        with Proxy(config(port, [("web1", w1.port, "")], defaults=defaults)):
            with Conn(port) as c:
                check(c.line(2.0) == "web1", "no greeting")
                for i in range(8):
                    time.sleep(0.2)
                    c.send(f"{i}\n".encode())
                    check(c.line(1.0) == str(i), f"echo {i} lost after {0.2 * (i + 1):.1f}s")


if __name__ == "__main__":
    run_tests(globals())
