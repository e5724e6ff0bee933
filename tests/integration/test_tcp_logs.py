#!/usr/bin/env python3
"""Traffic logs: `option tcplog` lines sent to a UDP syslog receiver (syslog
header, every field of HAProxy's tcplog format), termination states (--, SC,
sQ, cD), `option dontlognull`, and a `log stdout format raw` target."""

import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (TCP_DEFAULTS, Conn, Proxy, SyslogReceiver, backends, check,  # noqa: E402
                     free_port, run_tests, wait_until)

# HAProxy's tcplog:
#   %ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq
TCPLOG = (r"(?P<ci>[0-9.]+):(?P<cp>\d+)"
          r" \[(?P<t>\d\d/(?P<mon>[A-Z][a-z]{2})/\d{4}:\d\d:\d\d:\d\d\.\d{3})\]"
          r" (?P<ft>\S+) (?P<b>[^/\s]+)/(?P<s>\S+)"
          r" (?P<Tw>-1|\d+)/(?P<Tc>-1|\d+)/(?P<Tt>\+?\d+)"
          r" (?P<B>\+?\d+) (?P<ts>\S\S)"
          r" (?P<ac>\d+)/(?P<fc>\d+)/(?P<bc>\d+)/(?P<sc>\d+)/(?P<rc>\+?\d+)"
          r" (?P<sq>\d+)/(?P<bq>\d+)")
# RFC 3164 header as HAProxy sends it (no hostname): local0.info = 16*8+6.
SYSLOG = (r"^<(?P<pri>\d+)>(?P<hmon>[A-Z][a-z]{2}) (?P<day>[ 1-3]\d) \d\d:\d\d:\d\d"
          r" (?P<tag>proxyd|haproxy)\[(?P<pid>\d+)\]: (?P<msg>.*?)\n?$")


def global_to(syslog_port, *extra):
    lines = ["global", "    maxconn 1000", f"    log 127.0.0.1:{syslog_port} local0"]
    lines += [f"    {e}" for e in extra]
    return "\n".join(lines) + "\n"


def fe_be(port, servers, fe_opts=(), be_opts=(), defaults=TCP_DEFAULTS):
    """A frontend `fe` (logging with tcplog) and a backend `be`."""
    out = [defaults, "frontend fe", f"    bind 127.0.0.1:{port}", "    log global",
           "    option tcplog", *[f"    {o}" for o in fe_opts], "    default_backend be", "",
           "backend be", *[f"    {o}" for o in be_opts]]
    out += [f"    server {n} 127.0.0.1:{p} {params}".rstrip() for n, p, params in servers]
    return "\n".join(out) + "\n"


def tcplog_lines(messages):
    """Parsed syslog messages: (header match, tcplog match or None)."""
    out = []
    for m in messages:
        h = re.match(SYSLOG, m, re.S)
        check(h is not None, f"message without a syslog header: {m!r}")
        out.append((h, re.fullmatch(TCPLOG, h["msg"])))
    return out


def wait_tcplogs(rx, n, timeout=3.0):
    """Wait until `n` tcplog lines came; return all of them parsed."""
    def got():
        return [t for _, t in tcplog_lines(rx.snapshot()) if t]
    wait_until(lambda: len(got()) >= n, timeout)
    return got()


def test_tcplog_line_over_udp_syslog_has_header_and_fields():
    with SyslogReceiver() as rx, backends("web1") as (w1,):
        port = free_port()
        with Proxy(global_to(rx.port) + fe_be(port, [("web1", w1.port, "")])) as p:
            with Conn(port) as c:
                cport = c.sock.getsockname()[1]
                check(c.line(2.0) == "web1", "no greeting")
                c.send(b"hello\n")
                check(c.line(2.0) == "hello", "no echo")
                c.shut_wr()
                check(c.line(2.0) == "EOF:web1", "no EOF line")
                check(c.wait_closed(2.0) is not None, "not closed")
            logs = wait_tcplogs(rx, 1)
            msgs = rx.snapshot()
    check(len(logs) == 1, f"want 1 tcplog line, got {msgs!r}")
    h, t = [(h, t) for h, t in tcplog_lines(msgs) if t][0]
    check(h["pri"] == "134", f"priority <{h['pri']}>, want <134> (local0.info): {h[0]!r}")
    check(int(h["pid"]) == p.pid, f"pid in the tag {h['pid']}, proxy pid {p.pid}")
    check(h["hmon"] == time.strftime("%b") or h["hmon"] == t["mon"], f"month {h['hmon']!r}")
    check(h["day"] == f"{time.localtime().tm_mday:2d}" or time.localtime().tm_hour == 0,
          f"day {h['day']!r} (want space-padded {time.localtime().tm_mday:2d})")
    check(t["ci"] == "127.0.0.1", f"%ci {t['ci']}")
    check(int(t["cp"]) == cport, f"%cp {t['cp']}, the client's port is {cport}")
    check((t["ft"], t["b"], t["s"]) == ("fe", "be", "web1"), f"names {t['ft']} {t['b']}/{t['s']}")
    check(t["B"] == str(len(b"web1\nhello\nEOF:web1\n")), f"%B {t['B']}, the server sent 20 bytes")
    check(t["ts"] == "--", f"termination state {t['ts']!r}, want -- (normal close)")
    check(t["rc"] == "0", f"retries {t['rc']}")
    check(int(t["Tw"]) >= 0 and int(t["Tc"]) >= 0 and int(t["Tt"].lstrip("+")) >= int(t["Tc"]),
          f"timers {t['Tw']}/{t['Tc']}/{t['Tt']}")
    check(t["sq"] == "0" and t["bq"] == "0", f"queues {t['sq']}/{t['bq']}")


def test_tcplog_bytes_follow_what_the_server_sent():
    # %B counts server-to-client bytes only (the client sends 1000 here).
    with SyslogReceiver() as rx, backends("web1", mode="close") as (w1,):
        port = free_port()
        with Proxy(global_to(rx.port) + fe_be(port, [("web1", w1.port, "")])):
            with Conn(port) as c:
                c.send(b"x" * 1000)
                check(c.line(2.0) == "web1", "no greeting")
                check(c.wait_closed(2.0) is not None, "not closed")
            logs = wait_tcplogs(rx, 1)
    check(len(logs) == 1, f"want 1 tcplog line, got {len(logs)}")
    check(logs[0]["B"] == "5", f"%B {logs[0]['B']}, the server sent 5 bytes: {logs[0][0]!r}")


def test_no_server_available_logs_SC_and_NOSRV():
    with SyslogReceiver() as rx, backends("web1") as (w1,):
        port = free_port()
        cfg = global_to(rx.port) + fe_be(port, [("web1", w1.port, "check inter 100ms fall 2")])
        with Proxy(cfg) as p:
            w1.stop()
            check(p.wait_output(r"Server be/web1 is DOWN", 3.0) is not None
                  or rx.wait_for(r"Server be/web1 is DOWN", 0.5) is not None,
                  f"web1 never marked DOWN:\n{p.output()[-2000:]}")
            with Conn(port) as c:
                check(c.wait_closed(2.0) is not None, "client not closed with no server")
            logs = wait_tcplogs(rx, 1)
    check(len(logs) == 1, f"want 1 tcplog line, got {len(logs)}")
    t = logs[0]
    check((t["b"], t["s"]) == ("be", "<NOSRV>"), f"{t['b']}/{t['s']}, want be/<NOSRV>: {t[0]!r}")
    check(t["ts"] == "SC", f"termination state {t['ts']!r}, want SC: {t[0]!r}")
    check(t["B"] == "0", f"%B {t['B']}")


def test_queue_timeout_logs_sQ():
    defaults = TCP_DEFAULTS + "    timeout queue 400ms\n"
    with SyslogReceiver() as rx, backends("web1") as (w1,):
        port = free_port()
        cfg = global_to(rx.port) + fe_be(port, [("web1", w1.port, "maxconn 1")], defaults=defaults)
        with Proxy(cfg):
            with Conn(port) as first:
                check(first.line(2.0) == "web1", "first connection not served")
                with Conn(port) as second:
                    check(second.wait_closed(3.0) is not None, "queued connection not closed")
                logs = wait_tcplogs(rx, 1)
    check(len(logs) == 1, f"want 1 tcplog line (the queued one), got {len(logs)}")
    t = logs[0]
    check(t["ts"] == "sQ", f"termination state {t['ts']!r}, want sQ: {t[0]!r}")
    check(t["b"] == "be", f"backend {t['b']}")
    check(t["Tc"] == "-1", f"%Tc {t['Tc']}, never connected: {t[0]!r}")
    check(int(t["Tw"]) >= 300, f"%Tw {t['Tw']}, want about 400 (time queued): {t[0]!r}")


def test_client_timeout_logs_cD():
    defaults = TCP_DEFAULTS.replace("timeout client 10s", "timeout client 400ms")
    with SyslogReceiver() as rx, backends("web1") as (w1,):
        port = free_port()
        with Proxy(global_to(rx.port) + fe_be(port, [("web1", w1.port, "")], defaults=defaults)):
            with Conn(port) as c:
                check(c.line(2.0) == "web1", "no greeting")
                check(c.wait_closed(3.0) is not None, "idle client not closed")
            logs = wait_tcplogs(rx, 1)
    check(len(logs) == 1, f"want 1 tcplog line, got {len(logs)}")
    t = logs[0]
    check(t["ts"] == "cD", f"termination state {t['ts']!r}, want cD: {t[0]!r}")
    check(t["s"] == "web1", f"server {t['s']}")
    # HAProxy also counts the server's reply to the forwarded close
    # ("EOF:web1\n", read after the client side was closed): 5 or 14.
    check(t["B"] in ("5", "14"), f"%B {t['B']}")


def test_dontlognull_drops_only_connections_that_transferred_nothing():
    with SyslogReceiver() as rx, backends("web1", mode="mute") as (w1,):
        port = free_port()
        cfg = global_to(rx.port) + fe_be(port, [("web1", w1.port, "")], fe_opts=["option dontlognull"])
        with Proxy(cfg):
            # Null: connect and close, nothing either way.
            with Conn(port) as c:
                check(wait_until(lambda: w1.accepted == 1, 2.0), "server never saw the null connection")
            # Not null: the client sends something.
            with Conn(port) as c:
                dataport = c.sock.getsockname()[1]
                c.send(b"data\n")
                check(wait_until(lambda: w1.received == 5, 2.0), "data not forwarded")
            logs = wait_tcplogs(rx, 1)
            time.sleep(0.5)  # give a wrongly logged null connection time to show up
            logs = wait_tcplogs(rx, 1, timeout=0.1)
    check(len(logs) == 1, f"want 1 tcplog line (the one with data), got {[t[0] for t in logs]}")
    check(int(logs[0]["cp"]) == dataport, f"logged connection {logs[0][0]!r}, want client port {dataport}")


def test_without_dontlognull_null_connections_are_logged():
    # Control for the test above.
    with SyslogReceiver() as rx, backends("web1", mode="mute") as (w1,):
        port = free_port()
        with Proxy(global_to(rx.port) + fe_be(port, [("web1", w1.port, "")])):
            with Conn(port):
                check(wait_until(lambda: w1.accepted == 1, 2.0), "server never saw the connection")
            logs = wait_tcplogs(rx, 1)
    check(len(logs) == 1, f"want 1 tcplog line, got {len(logs)}")


def test_dontlognull_counts_client_bytes_not_server_bytes():
    # HAProxy's "null" is about the request side: a client that sends nothing
    # is not logged even if the server greeted it.
    with SyslogReceiver() as rx, backends("web1") as (w1,):
        port = free_port()
        cfg = global_to(rx.port) + fe_be(port, [("web1", w1.port, "")], fe_opts=["option dontlognull"])
        with Proxy(cfg):
            with Conn(port) as c:
                check(c.line(2.0) == "web1", "no greeting")
            with Conn(port) as c:
                dataport = c.sock.getsockname()[1]
                check(c.line(2.0) == "web1", "no greeting")
                c.send(b"x\n")
                check(c.line(2.0) == "x", "no echo")
            wait_tcplogs(rx, 1)
            time.sleep(0.5)
            logs = wait_tcplogs(rx, 1, timeout=0.1)
    check(len(logs) == 1, f"want 1 tcplog line (the client that sent data), got {[t[0] for t in logs]}")
    check(int(logs[0]["cp"]) == dataport, f"logged {logs[0][0]!r}, want client port {dataport}")


def test_log_stdout_format_raw_prints_the_bare_line():
    with backends("web1", mode="close") as (w1,):
        port = free_port()
        cfg = ("global\n    maxconn 1000\n    log stdout format raw local0\n"
               + fe_be(port, [("web1", w1.port, "")]))
        with Proxy(cfg) as p:
            with Conn(port) as c:
                cport = c.sock.getsockname()[1]
                check(c.line(2.0) == "web1", "no greeting")
                check(c.wait_closed(2.0) is not None, "not closed")
            m = p.wait_output(rf"(?m)^127\.0\.0\.1:{cport} .*$", 3.0)
            out = p.output()
    check(m is not None, f"no log line for client port {cport}:\n{out[-2000:]}")
    t = re.fullmatch(TCPLOG, m[0])
    check(t is not None, f"not a bare tcplog line: {m[0]!r}")
    check((t["ft"], t["b"], t["s"], t["B"], t["ts"]) == ("fe", "be", "web1", "5", "--"),
          f"fields of {m[0]!r}")


if __name__ == "__main__":
    run_tests(globals())
