#!/usr/bin/env python3
"""Backend switching in mode tcp: use_backend conditions on layer-4 fetches
(src, src_port, dst, dst_port, always_true/false) decide which backend a
connection reaches, as in HAProxy 2.6. Every backend greets with its own
name. Validated against haproxy (PROXYD=/usr/sbin/haproxy)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (TCP_DEFAULTS, Conn, Proxy, ask, backends, check, free_port,  # noqa: E402
                     global_section, run_tests)


def config(binds, rules, internal_port, public_port):
    out = [global_section() + TCP_DEFAULTS, "frontend fe"]
    out += [f"    bind {b}" for b in binds]
    out += [f"    {r}" for r in rules]
    out += ["    default_backend public",
            "backend internal", f"    server internal 127.0.0.1:{internal_port}",
            "backend public", f"    server public 127.0.0.1:{public_port}"]
    return "\n".join(out) + "\n"


def test_allow_list_on_src_does_not_let_everyone_in():
    # The security review's case: an allow-list for 10/8 must send a client
    # from 127.0.0.1 to the default backend.
    with backends("internal", "public") as (i, p):
        port = free_port()
        cfg = config([f"127.0.0.1:{port}"], ["use_backend internal if { src 10.0.0.0/8 }"],
                     i.port, p.port)
        with Proxy(cfg):
            got = [ask(port) for _ in range(5)]
    check(got == ["public"] * 5, f"127.0.0.1 reached {got}")


def test_src_selects_per_client_address():
    with backends("internal", "public") as (i, p):
        port = free_port()
        cfg = config([f"127.0.0.1:{port}"],
                     ["acl trusted src 127.0.0.2 127.0.0.3", "use_backend internal if trusted"],
                     i.port, p.port)
        with Proxy(cfg):
            got = {src: ask(port, src=src) for src in ("127.0.0.1", "127.0.0.2", "127.0.0.3",
                                                         "127.0.0.4")}
    check(got == {"127.0.0.1": "public", "127.0.0.2": "internal", "127.0.0.3": "internal",
                  "127.0.0.4": "public"}, f"by source: {got}")


def test_unless_inverts_the_condition():
    with backends("internal", "public") as (i, p):
        port = free_port()
        cfg = config([f"127.0.0.1:{port}"], ["use_backend internal unless { src 127.0.0.2 }"],
                     i.port, p.port)
        with Proxy(cfg):
            got = [ask(port, src="127.0.0.1"), ask(port, src="127.0.0.2")]
    check(got == ["internal", "public"], f"unless: {got}")


def test_dst_and_dst_port_select_by_listening_address():
    with backends("internal", "public") as (i, p):
        port, other = free_port(), free_port()
        cfg = config([f"127.0.0.1:{port}", f"127.0.0.1:{other}", f"127.0.0.5:{port}"],
                     ["use_backend internal if { dst_port " + str(other) + " }",
                      "use_backend internal if { dst 127.0.0.5 }"],
                     i.port, p.port)
        with Proxy(cfg):
            got = [ask(port), ask(other), ask_to("127.0.0.5", port)]
    check(got == ["public", "internal", "internal"], f"by destination: {got}")


def test_first_matching_rule_wins_and_false_never_matches():
    with backends("internal", "public") as (i, p):
        port = free_port()
        cfg = config([f"127.0.0.1:{port}"],
                     ["use_backend internal if FALSE", "use_backend public if TRUE",
                      "use_backend internal"], i.port, p.port)
        with Proxy(cfg):
            got = [ask(port) for _ in range(3)]
    check(got == ["public"] * 3, f"rule order: {got}")


def ask_to(host, port, timeout=2.0):
    """The greeting of the backend behind host:port (ask() dials 127.0.0.1)."""
    try:
        with Conn(port, host=host, timeout=timeout) as c:
            return c.line(timeout)
    except OSError:
        return None


if __name__ == "__main__":
    run_tests(globals())
