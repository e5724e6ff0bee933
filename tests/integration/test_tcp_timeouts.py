#!/usr/bin/env python3
"""Timeouts in TCP mode: timeout connect (with and without retries, against a
server whose handshake never completes), timeout server, timeout tunnel
overriding client/server timeouts, and the retry count in the log line."""

import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (TCP_DEFAULTS, Conn, Proxy, backends, check, free_port,  # noqa: E402
                     global_section, listen_tcp, run_tests, syn_blackhole, wait_until)


def config(port, servers, *options, defaults=TCP_DEFAULTS, log=False):
    return global_section(log=log) + defaults + listen_tcp("app", port, servers, *options)


def defaults_with(**timeouts):
    """TCP_DEFAULTS with some timeouts replaced or added, e.g.
    defaults_with(connect="300ms", tunnel="2s")."""
    lines = TCP_DEFAULTS.splitlines()
    for key, val in timeouts.items():
        new = f"    timeout {key} {val}"
        idx = [i for i, ln in enumerate(lines) if ln.strip().startswith(f"timeout {key} ")]
        if idx:
            lines[idx[0]] = new
        else:
            lines.append(new)
    return "\n".join(lines) + "\n"


def closed_after_connect(port, bound):
    """Open a client connection, return seconds until the proxy closed it
    (None if still open after `bound`), and the bytes it got."""
    with Conn(port) as c:
        took = c.wait_closed(bound)
        return took, c.buf


def test_timeout_connect_with_retries_0_closes_after_one_timeout():
    defaults = defaults_with(connect="400ms") + "    retries 0\n"
    with syn_blackhole() as dead:
        port = free_port()
        with Proxy(config(port, [("web1", dead, "")], defaults=defaults)):
            took, data = closed_after_connect(port, 4.0)
    check(took is not None, "client still open 4 s after connecting to a black hole")
    check(0.3 <= took <= 1.0, f"closed after {took:.2f}s, want about 0.4 s (timeout connect, no retry)")
    check(data == b"", f"unexpected data {data!r}")


def test_timeout_connect_is_retried_retries_times():
    # Each attempt times out after 300 ms; after a connect *timeout* HAProxy
    # retries at once (the turn-around delay is for immediate errors), so 3
    # retries take about 4 x 300 ms.
    defaults = defaults_with(connect="300ms") + "    retries 3\n"
    with syn_blackhole() as dead:
        port = free_port()
        with Proxy(config(port, [("web1", dead, "")], defaults=defaults)):
            took, data = closed_after_connect(port, 6.0)
    check(took is not None, "client still open 6 s after connecting to a black hole")
    check(1.1 <= took <= 2.5, f"closed after {took:.2f}s, want about 4 x 0.3 s (retries 3)")
    check(data == b"", f"unexpected data {data!r}")


def test_timeout_connect_does_not_cut_a_working_server():
    # Control: the same short timeout connect against a live server.
    defaults = defaults_with(connect="300ms") + "    retries 0\n"
    with backends("web1") as (w1,):
        port = free_port()
        with Proxy(config(port, [("web1", w1.port, "")], defaults=defaults)):
            with Conn(port) as c:
                check(c.line(2.0) == "web1", "no greeting")
                time.sleep(0.6)
                c.send(b"ping\n")
                check(c.line(2.0) == "ping", "connection cut after timeout connect elapsed")


def test_timeout_server_closes_when_server_and_client_are_silent():
    defaults = defaults_with(server="500ms", client="10s")
    with backends("web1", mode="silent") as (w1,):
        port = free_port()
        with Proxy(config(port, [("web1", w1.port, "")], defaults=defaults)):
            with Conn(port) as c:
                check(wait_until(lambda: w1.accepted == 1, 2.0), "server never saw the connection")
                took = c.wait_closed(4.0)
                check(took is not None, "client still open 4 s after connecting to a silent server")
                check(0.3 <= took <= 1.5, f"closed after {took:.2f}s, want about 0.5 s (timeout server)")


def test_timeout_tunnel_overrides_client_and_server_timeouts():
    defaults = defaults_with(client="300ms", server="300ms", tunnel="1500ms")
    with backends("web1") as (w1,):
        port = free_port()
        with Proxy(config(port, [("web1", w1.port, "")], defaults=defaults)):
            with Conn(port) as c:
                check(c.line(2.0) == "web1", "no greeting")
                t0 = time.monotonic()
                # Well past timeout client/server (0.3 s), still open.
                check(c.wait_closed(0.9) is None, "idle connection closed before timeout tunnel")
                c.send(b"still-here\n")
                check(c.line(1.0) == "still-here", "no echo after 0.9 s idle (tunnel 1.5 s)")
                t1 = time.monotonic()
                took = c.wait_closed(4.0)
                check(took is not None, "idle connection still open 4 s after the last traffic")
                check(1.2 <= took <= 2.5,
                      f"closed {took:.2f}s after the last traffic, want about 1.5 s (timeout tunnel);"
                      f" {t1 - t0:.2f}s after the greeting")


def test_without_timeout_tunnel_timeout_client_applies():
    # Control for the test above: the same idle connection without tunnel.
    defaults = defaults_with(client="300ms", server="10s")
    with backends("web1") as (w1,):
        port = free_port()
        with Proxy(config(port, [("web1", w1.port, "")], defaults=defaults)):
            with Conn(port) as c:
                check(c.line(2.0) == "web1", "no greeting")
                took = c.wait_closed(3.0)
                check(took is not None and took <= 1.0, f"closed after {took}, want about 0.3 s")


# HAProxy's tcplog: ... %ac/%fc/%bc/%sc/%rc %sq/%bq ; %rc is the retry count.
TCPLOG_TAIL = r"(?P<state>\S\S) (?P<ac>\d+)/(?P<fc>\d+)/(?P<bc>\d+)/(?P<sc>\d+)/(?P<rc>\+?\d+) \d+/\d+"


def test_retries_are_counted_in_the_log_line():
    defaults = defaults_with(connect="200ms") + "    retries 2\n"
    with syn_blackhole() as dead, backends("web2") as (w2,):
        port = free_port()
        # Two proxies in one: app1 retries a black hole, app2 reaches web2.
        port2 = free_port()
        text = (global_section(log=True) + defaults
                + listen_tcp("app1", port, [("web1", dead, "")], "log global", "option tcplog")
                + listen_tcp("app2", port2, [("web2", w2.port, "")], "log global", "option tcplog"))
        with Proxy(text) as p:
            took, _ = closed_after_connect(port, 5.0)
            check(took is not None, "client still open after all retries")
            with Conn(port2) as c:
                check(c.line(2.0) == "web2", "no greeting from app2")
            m1 = p.wait_output(r"app1 app1/web1 \S+ \d+ " + TCPLOG_TAIL, 3.0)
            m2 = p.wait_output(r"app2 app2/web2 \S+ \d+ " + TCPLOG_TAIL, 3.0)
    check(m1 is not None, f"no tcplog line for app1:\n{p.output()[-2000:]}")
    check(m2 is not None, f"no tcplog line for app2:\n{p.output()[-2000:]}")
    check(m1["rc"] == "2", f"app1 retries logged as {m1['rc']!r}, want 2: {m1[0]!r}")
    check(m1["state"] == "sC", f"app1 termination state {m1['state']!r}, want sC: {m1[0]!r}")
    check(m2["rc"] == "0", f"app2 retries logged as {m2['rc']!r}, want 0: {m2[0]!r}")


if __name__ == "__main__":
    run_tests(globals())
