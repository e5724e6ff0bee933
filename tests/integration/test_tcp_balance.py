#!/usr/bin/env python3
"""Load-balancing algorithms in TCP mode, seen from the client: which backend
answers each connection (every test backend greets with its own name)."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (TCP_DEFAULTS, Conn, Proxy, ask, ask_many, backends, check, counts,  # noqa: E402
                     free_port, global_section, listen_tcp, run_tests, wait_until)


def config(port, servers, *options, log=False):
    return global_section(log=log) + TCP_DEFAULTS + listen_tcp("app", port, servers, *options)


def hold(port, n, src=None):
    """Open n connections and keep them; returns [(conn, name)]."""
    out = []
    for _ in range(n):
        c = Conn(port, src=src)
        out.append((c, c.line(2.0)))
    return out


def release(conn, backend_list):
    """Close a held connection and wait until its backend has let it go, so
    the proxy's per-server count is down too."""
    before = sum(b.active for b in backend_list)
    conn.close()
    wait_until(lambda: sum(b.active for b in backend_list) < before, 2.0)
    time.sleep(0.2)


def test_roundrobin_weights_2_2_1_over_50_connections():
    with backends("s1", "s2", "s3") as (a, b, c):
        port = free_port()
        servers = [("s1", a.port, "weight 2"), ("s2", b.port, "weight 2"), ("s3", c.port, "weight 1")]
        with Proxy(config(port, servers, "balance roundrobin")):
            got = counts(ask_many(port, 50))
    check(got == {"s1": 20, "s2": 20, "s3": 10}, f"distribution {got}")


def test_roundrobin_is_interleaved_not_batched():
    # Weighted roundrobin spreads a server's turns over the cycle: with equal
    # weights every window of 3 consecutive connections hits all 3 servers.
    with backends("s1", "s2", "s3") as bs:
        port = free_port()
        with Proxy(config(port, [(b.name, b.port, "") for b in bs], "balance roundrobin")):
            seq = ask_many(port, 12)
    for i in range(0, 12, 3):
        check(sorted(seq[i:i + 3]) == ["s1", "s2", "s3"], f"sequence {seq}")


def test_static_rr_weights_2_2_1():
    with backends("s1", "s2", "s3") as (a, b, c):
        port = free_port()
        servers = [("s1", a.port, "weight 2"), ("s2", b.port, "weight 2"), ("s3", c.port, "weight 1")]
        with Proxy(config(port, servers, "balance static-rr")):
            seq = ask_many(port, 50)
    got = counts(seq)
    check(got == {"s1": 20, "s2": 20, "s3": 10}, f"distribution {got}")
    check(seq[:5] * 10 == seq, f"static-rr is not periodic over the weight sum: {seq}")


def test_leastconn_picks_least_loaded_server():
    with backends("s1", "s2", "s3") as bs:
        port = free_port()
        with Proxy(config(port, [(b.name, b.port, "") for b in bs], "balance leastconn")):
            held = hold(port, 3)
            names = [n for _, n in held]
            check(sorted(names) == ["s1", "s2", "s3"], f"3 held connections went to {names}")
            # Free the middle one: roundrobin would go on to the next server in
            # turn, leastconn must pick the one that now has no connection.
            for _ in range(3):
                conn, freed = held.pop(1)
                release(conn, bs)
                c = Conn(port)
                got = c.line(2.0)
                check(got == freed, f"after freeing {freed}, new connection went to {got}")
                held.insert(1, (c, got))
            # One more on top: every server has 1, so it joins one of them; the
            # following one must avoid that server (it then has 2).
            c4 = Conn(port)
            n4 = c4.line(2.0)
            c5 = Conn(port)
            n5 = c5.line(2.0)
            check(n4 in ("s1", "s2", "s3") and n5 in ("s1", "s2", "s3") and n4 != n5,
                  f"4th/5th connections went to {n4}/{n5}")
            for c, _ in held + [(c4, n4), (c5, n5)]:
                c.close()


def test_first_fills_servers_in_order():
    with backends("s1", "s2", "s3") as bs:
        port = free_port()
        servers = [(b.name, b.port, "maxconn 2") for b in bs]
        with Proxy(config(port, servers, "balance first")):
            held = hold(port, 5)
            names = [n for _, n in held]
            check(names == ["s1", "s1", "s2", "s2", "s3"], f"held connections went to {names}")
            release(held[0][0], bs)
            c = Conn(port)
            got = c.line(2.0)
            check(got == "s1", f"after a slot freed on s1 the next went to {got}")
            c.close()
            for conn, _ in held[1:]:
                conn.close()


def test_source_keeps_each_client_ip_on_one_server():
    clients = [f"127.0.0.{i}" for i in range(2, 42)]
    with backends("s1", "s2", "s3") as bs:
        port = free_port()
        with Proxy(config(port, [(b.name, b.port, "") for b in bs], "balance source")):
            seen = {ip: ask_many(port, 3, src=ip) for ip in clients}
    for ip, names in seen.items():
        check(None not in names and len(set(names)) == 1, f"client {ip} went to {names}")
    used = counts([names[0] for names in seen.values()])
    check(len(used) >= 2, f"40 client addresses all hashed to one server: {used}")


def test_hash_type_consistent_moves_only_removed_servers_clients():
    clients = [f"127.0.{i // 250}.{i % 250 + 2}" for i in range(300)]
    with backends("s1", "s2", "s3", "s4") as bs:
        port = free_port()
        all_servers = [(b.name, b.port, "") for b in bs]
        opts = ("balance source", "hash-type consistent")
        with Proxy(config(port, all_servers, *opts)):
            before = {ip: ask(port, src=ip) for ip in clients}
        # Restart with s4 removed (s1..s3 keep their order, hence their ids).
        with Proxy(config(port, all_servers[:3], *opts)):
            after = {ip: ask(port, src=ip) for ip in clients}
    check(None not in before.values() and None not in after.values(), "some connection failed")
    on_s4 = [ip for ip in clients if before[ip] == "s4"]
    moved = [ip for ip in clients if before[ip] != after[ip]]
    moved_others = [ip for ip in moved if before[ip] != "s4"]
    check(0 < len(on_s4) < len(clients), f"s4 had {len(on_s4)} of {len(clients)} clients")
    check(all(after[ip] != "s4" for ip in clients), "s4 still answers after removal")
    # Consistent hashing: only the removed server's clients move (about 1/N);
    # map-based hashing would move most clients (about 3/4 for 4 -> 3).
    check(len(moved_others) <= len(clients) // 50,
          f"{len(moved_others)} clients of s1..s3 moved ({len(moved)} moved in all)")
    check(len(moved) <= len(clients) // 2, f"{len(moved)} of {len(clients)} clients moved")


def test_hash_type_map_based_is_the_default_and_moves_more():
    # Control for the test above: proves that test can fail. The default
    # (map-based) hash remaps far more clients when a server goes away.
    clients = [f"127.0.{i // 250}.{i % 250 + 2}" for i in range(300)]
    with backends("s1", "s2", "s3", "s4") as bs:
        port = free_port()
        all_servers = [(b.name, b.port, "") for b in bs]
        with Proxy(config(port, all_servers, "balance source")):
            before = {ip: ask(port, src=ip) for ip in clients}
        with Proxy(config(port, all_servers[:3], "balance source")):
            after = {ip: ask(port, src=ip) for ip in clients}
    moved_others = [ip for ip in clients if before[ip] != after[ip] and before[ip] != "s4"]
    check(len(moved_others) > len(clients) // 4,
          f"only {len(moved_others)} clients of s1..s3 moved with map-based hashing")


def test_weight_0_is_never_picked():
    with backends("s1", "s2", "s3") as (a, b, c):
        port = free_port()
        servers = [("s1", a.port, "weight 1"), ("s2", b.port, "weight 0"), ("s3", c.port, "weight 1")]
        with Proxy(config(port, servers, "balance roundrobin")):
            got = counts(ask_many(port, 20))
    check(got == {"s1": 10, "s3": 10}, f"distribution {got}")


CHECK = "check inter 100ms fall 2 rise 2"


def _kill_and_wait_down(proxy, port, victims, survivors_names, timeout=3.0):
    for v in victims:
        v.stop()
    ok = wait_until(lambda: all(n in survivors_names for n in ask_many(port, 4)), timeout, step=0.1)
    check(ok, f"traffic did not move to {survivors_names} within {timeout}s:\n{proxy.output()[-2000:]}")


def test_backup_used_only_when_all_active_down():
    with backends("a1", "a2", "b1", "b2") as (a1, a2, b1, b2):
        port = free_port()
        servers = [("a1", a1.port, CHECK), ("a2", a2.port, CHECK),
                   ("b1", b1.port, CHECK + " backup"), ("b2", b2.port, CHECK + " backup")]
        with Proxy(config(port, servers, "balance roundrobin")) as p:
            time.sleep(0.3)
            got = counts(ask_many(port, 20))
            check(got == {"a1": 10, "a2": 10}, f"with all active up: {got}")
            _kill_and_wait_down(p, port, [a1], {"a2"})
            got = counts(ask_many(port, 10))
            check(got == {"a2": 10}, f"with one active up, backups must stay idle: {got}")
            _kill_and_wait_down(p, port, [a2], {"b1", "b2"})
            # Without allbackups only the first backup serves.
            got = counts(ask_many(port, 10))
            check(got == {"b1": 10}, f"with all active down: {got}")


def test_allbackups_spreads_over_every_backup():
    with backends("a1", "b1", "b2") as (a1, b1, b2):
        port = free_port()
        servers = [("a1", a1.port, CHECK), ("b1", b1.port, CHECK + " backup"),
                   ("b2", b2.port, CHECK + " backup")]
        with Proxy(config(port, servers, "balance roundrobin", "option allbackups")) as p:
            time.sleep(0.3)
            got = counts(ask_many(port, 6))
            check(got == {"a1": 6}, f"with the active server up: {got}")
            _kill_and_wait_down(p, port, [a1], {"b1", "b2"})
            got = counts(ask_many(port, 10))
            check(got == {"b1": 5, "b2": 5}, f"with allbackups: {got}")


if __name__ == "__main__":
    run_tests(globals())
