#!/usr/bin/env python3
"""tcp-check rulesets (connect / send / send-binary / expect string, rstring,
binary, negated), check `port` and `addr`, fastinter and downinter cadence,
`disabled` servers, global maxconn, an IPv6 bind, and `-f DIRECTORY`."""

import contextlib
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (LOOPBACK, TCP_DEFAULTS, Backend, Conn, Proxy, ask_many, backends,  # noqa: E402
                     check, counts, free_port, global_section, listen_tcp, run_tests, wait_until)


class PingServer:
    """A tiny line server: reads one line; if it is "PING" answers `reply`
    (mutable), else "-ERR unknown command"; then closes. Counts connections
    (health checks included) and the answers it gave."""

    def __init__(self, reply: bytes = b"+PONG\r\n", host: str = LOOPBACK, port: int | None = None):
        self.reply = reply
        self.host = host
        self.port = port or free_port()
        self.accepted = 0
        self.answers: list[bytes] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._lsock: socket.socket | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> "PingServer":
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((self.host, self.port))
        s.listen(64)
        s.settimeout(0.05)
        self._lsock = s
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._lsock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self._lock:
                self.accepted += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(1.0)
            buf = b""
            while b"\n" not in buf and len(buf) < 1024:
                data = conn.recv(1024)
                if not data:
                    return
                buf += data
            ans = self.reply if buf.split(b"\n", 1)[0].rstrip(b"\r") == b"PING" else b"-ERR unknown command\r\n"
            with self._lock:
                self.answers.append(ans)
            conn.sendall(ans)
            conn.shutdown(socket.SHUT_WR)
            conn.recv(1024)  # until the peer closes (or 1 s)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                conn.close()

    def count(self) -> int:
        with self._lock:
            return self.accepted

    def stop(self) -> None:
        self._stop.set()
        if self._lsock:
            with contextlib.suppress(OSError):
                self._lsock.close()
        if self._thread:
            self._thread.join(timeout=1.0)

    def __enter__(self) -> "PingServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def config(port, servers, *options, defaults=TCP_DEFAULTS, glob=None):
    return (glob or global_section(log=True)) + defaults + listen_tcp("app", port, servers, *options)


PING_RULES = ("option tcp-check", "tcp-check connect", 'tcp-check send "PING\\r\\n"')
CHK = "check inter 100ms fall 2 rise 2"


def ping(port):
    """Through the proxy: send PING, return the answer line (or None)."""
    try:
        with Conn(port) as c:
            c.send(b"PING\r\n")
            got = c.line(2.0)
            return got.rstrip("\r") if got is not None else None
    except OSError:
        return None


def good_vs_bad(rules, good_reply, bad_reply, bad_reason="Layer7"):
    """Two ping servers behind `rules`: `good` must stay UP and get all the
    traffic, `bad` must go DOWN with `bad_reason` in its log line."""
    with PingServer(good_reply) as good, PingServer(bad_reply) as bad:
        port = free_port()
        cfg = config(port, [("good", good.port, CHK), ("bad", bad.port, CHK)], *rules)
        with Proxy(cfg) as p:
            m = p.wait_output(r"Server app/bad is DOWN[^\n]*", 3.0)
            check(m is not None, f"bad never marked DOWN:\n{p.output()[-2000:]}")
            check(bad_reason in m[0], f"DOWN line without {bad_reason!r}: {m[0]!r}")
            time.sleep(0.5)
            check("app/good is DOWN" not in p.output(), f"good marked DOWN:\n{p.output()[-2000:]}")
            check(good.count() >= 3, f"good got {good.count()} checks")
            got = counts([ping(port) for _ in range(6)])
            check(got == {good_reply.decode().rstrip(): 6}, f"traffic answers {got}")


def test_tcp_check_send_expect_string_marks_pong_up_and_err_down():
    good_vs_bad((*PING_RULES, "tcp-check expect string +PONG"), b"+PONG\r\n", b"-ERR\r\n")


def test_tcp_check_server_goes_up_when_its_answer_becomes_right():
    with PingServer(b"-ERR\r\n") as srv:
        port = free_port()
        cfg = config(port, [("web1", srv.port, CHK)], *PING_RULES, "tcp-check expect string +PONG")
        with Proxy(cfg) as p:
            check(p.wait_output(r"Server app/web1 is DOWN[^\n]*Layer7", 3.0) is not None,
                  f"web1 not marked DOWN (Layer7):\n{p.output()[-2000:]}")
            check(ping(port) is None, "traffic served while the only server is DOWN")
            srv.reply = b"+PONG\r\n"
            check(p.wait_output(r"Server app/web1 is UP", 3.0) is not None,
                  f"web1 not marked UP after answering +PONG:\n{p.output()[-2000:]}")
            check(ping(port) == "+PONG", "no traffic after UP")


def test_tcp_check_expect_rstring_is_a_regex():
    # "-PONG" contains "PONG" but does not match the anchored regex.
    good_vs_bad((*PING_RULES, "tcp-check expect rstring ^[+]PO.G"), b"+PONG\r\n", b"-PONG\r\n")


def test_tcp_check_negated_expect():
    good_vs_bad((*PING_RULES, "tcp-check expect ! string -ERR"), b"+PONG\r\n", b"-ERR\r\n")


def test_tcp_check_send_binary_and_expect_binary():
    # The server answers +PONG only to exactly "PING\r\n" (hex 50494e470d0a).
    rules = ("option tcp-check", "tcp-check connect", "tcp-check send-binary 50494e470d0a",
             "tcp-check expect binary 2b504f4e47")
    good_vs_bad(rules, b"+PONG\r\n", b"+PANG\r\n")


def test_tcp_check_failure_info_names_the_mismatch():
    # The server answers "-PONG\r\n" and closes. HAProxy's DOWN line says
    # what did not match (the answer was not empty).
    cases = [("string +PONG", "TCPCHK did not match content '+PONG' at step 3"),
             ("rstring ^[+]PO.G", "TCPCHK did not match content (regex) at step 3"),
             ("binary 2b504f4e47", "TCPCHK did not match content (binary) at step 3"),
             ("! string -PONG", "TCPCHK matched unwanted content '-PONG' at step 3")]
    wrong = []
    for rule, info in cases:
        with PingServer(b"-PONG\r\n") as srv:
            port = free_port()
            with Proxy(config(port, [("web1", srv.port, CHK)], *PING_RULES, f"tcp-check expect {rule}")) as p:
                m = p.wait_output(r"Server app/web1 is DOWN, reason: Layer7 invalid response[^\n]*", 3.0)
                check(m is not None, f"{rule}: no Layer7 DOWN line:\n{p.output()[-2000:]}")
                if f'info: "{info}"' not in m[0]:
                    wrong.append(f"expect {rule}: {m[0]!r}")
    check(not wrong, "DOWN lines without HAProxy's info (want 'did not match content ...'):\n  "
          + "\n  ".join(wrong))


def test_tcp_check_send_binary_wrong_bytes_fail():
    # Control: a send-binary of "PONG\r\n" gets -ERR from both servers.
    rules = ("option tcp-check", "tcp-check connect", "tcp-check send-binary 504f4e470d0a",
             "tcp-check expect binary 2b504f4e47")
    with PingServer() as srv:
        port = free_port()
        with Proxy(config(port, [("web1", srv.port, CHK)], *rules)) as p:
            check(p.wait_output(r"Server app/web1 is DOWN[^\n]*Layer7", 3.0) is not None,
                  f"web1 not DOWN:\n{p.output()[-2000:]}")
            check(b"-ERR unknown command\r\n" in srv.answers, f"answers {srv.answers[:3]}")


# Checks with data (PING/+PONG) where connections are counted: HAProxy's
# connect-only check resets the connection before the handshake's last ACK
# (TCP_QUICKACK off), so a listener never accept()s it.
PONG_RULES = (*PING_RULES, "tcp-check expect string +PONG")


def test_check_port_sends_checks_to_another_port():
    with backends("web1", "web2") as (w1, w2), PingServer() as chk_alive:
        dead = free_port()
        port = free_port()
        servers = [("web1", w1.port, f"{CHK} port {dead}"),          # traffic alive, check dead
                   ("web2", w2.port, f"{CHK} port {chk_alive.port}")]  # both alive
        with Proxy(config(port, servers, "balance roundrobin", *PONG_RULES)) as p:
            check(p.wait_output(r"Server app/web1 is DOWN[^\n]*Layer4", 3.0) is not None,
                  f"web1 (check port dead) not DOWN:\n{p.output()[-2000:]}")
            time.sleep(0.3)
            check("app/web2 is DOWN" not in p.output(), f"web2 DOWN:\n{p.output()[-2000:]}")
            check(chk_alive.count() >= 3, f"web2's check port saw {chk_alive.count()} checks")
            got = counts(ask_many(port, 6))
            check(got == {"web2": 6}, f"traffic with web1 DOWN: {got}")
            check(w1.accepted == 0, f"web1's traffic port saw {w1.accepted} connections (checks?)")


def test_check_addr_sends_checks_to_another_address():
    with backends("web1") as (w1,):
        alt = PingServer(host="127.0.0.2", port=w1.port).start()  # same port, other address
        try:
            port = free_port()
            with Proxy(config(port, [("web1", w1.port, f"{CHK} addr 127.0.0.2")], *PONG_RULES)) as p:
                check(wait_until(lambda: alt.count() >= 3, 2.0), f"127.0.0.2 saw {alt.count()} checks")
                check(w1.accepted == 0, f"127.0.0.1 saw {w1.accepted} connections before any traffic")
                alt.stop()
                check(p.wait_output(r"Server app/web1 is DOWN", 3.0) is not None,
                      f"web1 not DOWN after its check address died:\n{p.output()[-2000:]}")
        finally:
            alt.stop()


def count_over(srv, seconds):
    n0 = srv.count()
    time.sleep(seconds)
    return srv.count() - n0


def test_fastinter_speeds_up_checks_while_state_is_changing():
    # DOWN (fall 1) at inter 1s; once answers are right, the server is in
    # transition for `rise` checks, made at fastinter.
    chk = "check inter 1s fastinter 100ms fall 1 rise 30"
    with PingServer(b"-ERR\r\n") as srv:
        port = free_port()
        with Proxy(config(port, [("web1", srv.port, chk)], *PING_RULES, "tcp-check expect string +PONG")) as p:
            check(p.wait_output(r"Server app/web1 is DOWN", 3.0) is not None, "web1 never DOWN")
            slow = count_over(srv, 1.5)
            srv.reply = b"+PONG\r\n"
            n = len(srv.answers)
            check(wait_until(lambda: srv.answers[n:] and b"+PONG\r\n" in srv.answers[n:], 2.0),
                  "no check got +PONG")
            fast = count_over(srv, 1.0)
    check(slow <= 3, f"{slow} checks in 1.5 s while DOWN at inter 1s")
    check(fast >= 6, f"{fast} checks in 1 s while rising (fastinter 100ms)")


def test_downinter_slows_checks_while_down():
    rules = (*PING_RULES, "tcp-check expect string +PONG")
    results = {}
    for label, chk in (("downinter", "check inter 100ms downinter 1s fall 1 rise 2"),
                       ("control", "check inter 100ms fall 1 rise 2")):
        with PingServer(b"-ERR\r\n") as srv:
            port = free_port()
            with Proxy(config(port, [("web1", srv.port, chk)], *rules)) as p:
                check(p.wait_output(r"Server app/web1 is DOWN", 3.0) is not None, f"{label}: never DOWN")
                results[label] = count_over(srv, 1.5)
    check(results["downinter"] <= 3, f"{results['downinter']} checks in 1.5 s while DOWN (downinter 1s)")
    check(results["control"] >= 8, f"{results['control']} checks in 1.5 s while DOWN without downinter")


def test_disabled_server_gets_no_traffic():
    with backends("web1", "web2") as (w1, w2):
        port = free_port()
        with Proxy(config(port, [("web1", w1.port, "disabled"), ("web2", w2.port, "")], "balance roundrobin")):
            got = counts(ask_many(port, 8))
    check(got == {"web2": 8}, f"with web1 disabled: {got}")
    check(w1.accepted == 0, f"disabled web1 saw {w1.accepted} connections")


def test_global_maxconn_holds_the_third_connection_until_one_closes():
    glob = "global\n    maxconn 2\n"
    with backends("web1") as (w1,):
        port = free_port()
        with Proxy(config(port, [("web1", w1.port, "")], glob=glob)):
            a, b = Conn(port), Conn(port)
            c = None
            try:
                check(a.line(2.0) == "web1" and b.line(2.0) == "web1", "first two not served")
                c = Conn(port)
                check(c.line(0.7) is None, "third connection served beyond global maxconn 2")
                check(w1.accepted == 2, f"backend saw {w1.accepted} connections, want 2")
                check(not c.eof, "third connection closed instead of waiting")
                a.close()
                check(c.line(2.0) == "web1", "third connection not served after a slot freed")
            finally:
                for x in (a, b, c):
                    if x:
                        x.close()


def test_bind_on_ipv6_loopback():
    with backends("web1") as (w1,):
        port = free_port()
        cfg = (global_section() + TCP_DEFAULTS + f"listen app\n    bind [::1]:{port}\n"
               f"    server web1 127.0.0.1:{w1.port}\n")
        with Proxy(cfg, wait_ports=[port]):
            with Conn(port, host="::1") as c:
                check(c.sock.getpeername()[0] == "::1", "not connected over IPv6")
                check(c.line(2.0) == "web1", "no greeting over [::1]")
                c.send(b"six\n")
                check(c.line(2.0) == "six", "no echo over [::1]")
            refused = False
            try:
                Conn(port).close()  # 127.0.0.1: not bound
            except OSError:
                refused = True
            check(refused, "the IPv4 loopback answered on a [::1]-only bind")


def test_config_directory_loads_cfg_files_in_lexical_order():
    # Written in reverse order. Lexical order gives the listen the defaults of
    # 10-short.cfg (timeout client 300ms). Reverse order would give it none;
    # 15-ignored.conf (not *.cfg) would set 5s; 99-junk.txt would not parse.
    with backends("web1") as (w1,):
        port = free_port()
        long_defaults = TCP_DEFAULTS.replace("timeout client 10s", "timeout client 5s")
        short_defaults = TCP_DEFAULTS.replace("timeout client 10s", "timeout client 300ms")
        files = [
            ("99-junk.txt", "this is not a configuration\n"),
            ("20-listen.cfg", f"listen app\n    bind 127.0.0.1:{port}\n    server web1 127.0.0.1:{w1.port}\n"),
            ("15-ignored.conf", long_defaults),
            ("10-short.cfg", short_defaults),
            ("05-long.cfg", long_defaults),
            ("00-global.cfg", global_section()),
        ]
        with Proxy("", files=files, wait_ports=[port]):
            with Conn(port) as c:
                check(c.line(2.0) == "web1", "no greeting")
                took = c.wait_closed(3.0)
    check(took is not None, "idle connection still open after 3 s: defaults not applied in lexical order")
    check(took <= 1.0, f"closed after {took:.2f}s, want about 0.3 s (10-short.cfg's timeout client)")


if __name__ == "__main__":
    run_tests(globals())
