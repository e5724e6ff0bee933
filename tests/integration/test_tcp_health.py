#!/usr/bin/env python3
"""Health checks (TCP connect checks), server state changes and their log
lines, behaviour with no server left, retries and redispatch."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (TCP_DEFAULTS, Backend, Conn, Proxy, ask_many, backends, check, counts,  # noqa: E402
                     free_port, global_section, listen_tcp, run_tests)

INTER = 0.1


def config(port, servers, *options, defaults=TCP_DEFAULTS):
    return global_section(log=True) + defaults + listen_tcp("app", port, servers, *options)


def test_killed_backend_leaves_rotation_within_inter_x_fall_and_returns_after_rise():
    fall, rise = 3, 5
    chk = f"check inter {int(INTER * 1000)}ms fall {fall} rise {rise}"
    with backends("web1", "web2", "web3") as (w1, w2, w3):
        port = free_port()
        with Proxy(config(port, [(b.name, b.port, chk) for b in (w1, w2, w3)], "balance roundrobin")) as p:
            time.sleep(0.3)
            got = counts(ask_many(port, 9))
            check(got == {"web1": 3, "web2": 3, "web3": 3}, f"before the kill: {got}")

            t0 = time.monotonic()
            w1.stop()
            limit = INTER * fall + 0.7  # checks are spread/jittered; 0.7 s margin
            m = p.wait_output(r"Server app/web1 is DOWN, reason: Layer4 connection problem", 3.0)
            down_after = time.monotonic() - t0
            check(m is not None, f"no DOWN log line for app/web1:\n{p.output()[-2000:]}")
            check(down_after <= limit, f"web1 marked DOWN after {down_after:.2f}s (limit {limit:.2f}s)")
            got = counts(ask_many(port, 20))
            check(got == {"web2": 10, "web3": 10}, f"after web1 went DOWN: {got}")

            # Back on the same port: it needs `rise` consecutive good checks,
            # i.e. at least (rise-1)*inter = 0.4 s. At 0.15 s it must still be out.
            t1 = time.monotonic()
            w1b = Backend("web1", port=w1.port).start()
            try:
                time.sleep(max(0.0, 0.15 - (time.monotonic() - t1)))
                early = ask_many(port, 6)
                check(time.monotonic() - t1 < (rise - 1) * INTER, "sampling took too long to judge")
                check("web1" not in early, f"web1 back after fewer than {rise} checks: {early}")
                m = p.wait_output(r"Server app/web1 is UP", INTER * rise + 1.5)
                check(m is not None, f"no UP log line for app/web1:\n{p.output()[-2000:]}")
                got = counts(ask_many(port, 9))
                check(got == {"web1": 3, "web2": 3, "web3": 3}, f"after web1 came back: {got}")
            finally:
                w1b.stop()


def test_all_servers_down_closes_client_at_once():
    chk = "check inter 100ms fall 2 rise 2"
    slow_connect = TCP_DEFAULTS.replace("timeout connect 1s", "timeout connect 5s")
    with backends("web1", "web2") as (w1, w2):
        port = free_port()
        with Proxy(config(port, [(b.name, b.port, chk) for b in (w1, w2)], defaults=slow_connect)) as p:
            w1.stop()
            w2.stop()
            for name in ("web1", "web2"):
                m = p.wait_output(rf"Server app/{name} is DOWN", 3.0)
                check(m is not None, f"{name} never marked DOWN:\n{p.output()[-2000:]}")
            # HAProxy's alert when the last server goes.
            check(p.wait_output(r"(backend|proxy) 'app' has no server available!", 2.0) is not None,
                  f"no 'has no server available' line:\n{p.output()[-2000:]}")
            for _ in range(3):
                with Conn(port) as c:
                    closed_after = c.wait_closed(3.0)
                    check(closed_after is not None and closed_after < 1.0,
                          f"client connection not closed within 1 s (closed after {closed_after})")
                    check(c.buf == b"", f"unexpected data {c.buf!r}")


def test_retries_with_redispatch_route_around_an_unchecked_dead_server():
    dead = free_port()  # nothing listens there: connect is refused
    defaults = TCP_DEFAULTS.replace("timeout connect 1s", "timeout connect 200ms")
    defaults += "    retries 3\n    option redispatch\n"
    with backends("web2") as (w2,):
        port = free_port()
        servers = [("web1", dead, ""), ("web2", w2.port, "")]
        with Proxy(config(port, servers, "balance roundrobin", defaults=defaults)):
            t0 = time.monotonic()
            got = counts(ask_many(port, 10, timeout=3.0))
            took = time.monotonic() - t0
    check(got == {"web2": 10}, f"with redispatch: {got}")
    check(took < 15.0, f"10 connections took {took:.1f}s")


def test_without_redispatch_the_dead_servers_share_fails():
    # Control for the test above: the same setup minus `option redispatch`
    # loses the connections assigned to the dead server.
    dead = free_port()
    defaults = TCP_DEFAULTS.replace("timeout connect 1s", "timeout connect 200ms")
    defaults += "    retries 1\n"
    with backends("web2") as (w2,):
        port = free_port()
        servers = [("web1", dead, ""), ("web2", w2.port, "")]
        with Proxy(config(port, servers, "balance roundrobin", defaults=defaults)):
            got = counts(ask_many(port, 6, timeout=3.0))
    check(got == {None: 3, "web2": 3}, f"without redispatch: {got}")


if __name__ == "__main__":
    run_tests(globals())
