#!/usr/bin/env python3
"""`log-format`: a custom format with most of HAProxy's variables, sent to a
UDP syslog receiver, for an HTTP frontend (a proxied request, a denied one,
a bad one) and a TCP frontend; and the errors `-c` gives for a bad format.
The expected lines are HAProxy 2.6's (run this script with
PROXYD=/usr/sbin/haproxy); only values that vary from run to run (timers,
ephemeral ports, dates, byte counts of internal encodings) are masked."""

import os
import re
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (HttpBackend, Proxy, SyslogReceiver, backends, check,  # noqa: E402
                     free_port, run_proxyd, run_tests, wait_until)

HTTP_FORMAT = ("%ci %cp %fi:%fp %bi:%bp %si:%sp [%t] [%tr] [%T] %Ts %ms %ft %f %b %s "
               "%TR/%Tw/%Tc/%Tr/%Ta/%Tt %Th/%Ti/%Tq/%Tu %ST %B %ts %tsc "
               "%ac/%fc/%bc/%sc/%rc %sq/%bq %{+Q}r %HM %HP %HPO %HQ %HU %HV %hr %hs "
               "%CC %CS %ID %pid %{+X}ci:%{+X}cp %{+Q}ft %{+Q}o %b %{-Q}s %%\\ done")
TCP_FORMAT = ("tcp %ci:%cp %fi:%fp %bi:%bp %si:%sp %ft %b/%s %Tw/%Tc/%Tt %B %U %ST %ts %tsc "
              "%ac/%fc/%bc/%sc/%rc %sq/%bq %hr %ID")

DATE = r"\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d"
N = r"\d+"


def config(syslog_port, http_port, tcp_port, srv_port, clf_port=None, null_port=None):
    null = "" if null_port is None else f"""
frontend fnull
    mode http
    bind 127.0.0.1:{null_port}
    log global
    option dontlognull
    log-format "null %ci %ST"
    default_backend be
"""
    clf = "" if clf_port is None else f"""
frontend fclf
    mode http
    bind 127.0.0.1:{clf_port}
    log global
    option httplog clf
    default_backend be
"""
    return f"""\
global
    log 127.0.0.1:{syslog_port} local0

defaults
    timeout connect 1s
    timeout client 5s
    timeout server 5s

frontend fe
    mode http
    bind 127.0.0.1:{http_port}
    log global
    log-format "{HTTP_FORMAT}"
    http-request deny if {{ path /deny }}
    default_backend be

backend be
    mode http
    server s1 127.0.0.1:{srv_port}

frontend ft
    mode tcp
    bind 127.0.0.1:{tcp_port}
    log global
    log-format "{TCP_FORMAT}"
    default_backend bt

backend bt
    mode tcp
    server t1 127.0.0.1:{srv_port}
""" + clf + null


def http_exchange(port, request):
    """Sends `request` on a new connection and reads until the proxy closes;
    returns (client port, response bytes)."""
    with socket.create_connection(("127.0.0.1", port), timeout=3) as s:
        cport = s.getsockname()[1]
        s.sendall(request)
        data = b""
        deadline = time.time() + 3
        while time.time() < deadline:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    return cport, data


def messages(rx, prefix_re, n, timeout=3.0):
    """The bodies of the syslog messages matching `prefix_re` (after the
    header), waiting for `n` of them."""
    def got():
        out = []
        for m in rx.snapshot():
            body = m.split(": ", 1)[1].rstrip("\n") if ": " in m else m
            if re.match(prefix_re, body):
                out.append(body)
        return out
    wait_until(lambda: len(got()) >= n, timeout)
    return got()


def expect(line, pattern, what):
    check(re.fullmatch(pattern, line) is not None, f"{what}:\n  got  {line!r}\n  want {pattern!r}")


def run(fn, clf_port=None, null_port=None):
    with SyslogReceiver() as rx, HttpBackend("srv") as srv:
        http_port, tcp_port = free_port(), free_port()
        with Proxy(config(rx.port, http_port, tcp_port, srv.port, clf_port, null_port)) as p:
            fn(rx, p, http_port, tcp_port, srv.port)


def test_option_httplog_clf_line():
    clf_port = free_port()

    def body(rx, p, hp, tp, sp):
        cport, resp = http_exchange(
            clf_port, b"GET /c?q HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        check(resp.startswith(b"HTTP/1.1 200"), f"response {resp[:60]!r}")
        lines = messages(rx, r"127\.0\.0\.1 - - ", 1)
        check(len(lines) == 1, f"want one line, got {lines!r}")
        # HAProxy 2.6's clf format, trailing space included.
        expect(lines[0], f"127\\.0\\.0\\.1 - - \\[{DATE} \\+0000\\] "
                         + re.escape('"GET /c?q HTTP/1.1" 200 ') + f"{N} "
                         + re.escape('"" "" ') + f"{cport} \\d{{3}} "
                         + re.escape('"fclf" "be" "s1" ')
                         + f"{N} {N} {N} {N} {N} ---- {N} {N} {N} {N} 0 0 0 "
                         + re.escape('"" "" '), "clf line")
    run(body, clf_port)


def test_http_line_of_a_proxied_request():
    def body(rx, p, hp, tp, sp):
        cport, resp = http_exchange(
            hp, b'GET /a/b?x=1&y="q" HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n')
        check(resp.startswith(b"HTTP/1.1 200"), f"response {resp[:60]!r}")
        lines = messages(rx, r"127\.0\.0\.1 \d+ ", 1)
        check(len(lines) == 1, f"want one line, got {lines!r}")
        line = lines[0]
        esc = re.escape
        want = (f"127\\.0\\.0\\.1 {cport} 127\\.0\\.0\\.1:{hp} 127\\.0\\.0\\.1:{N} "
                f"127\\.0\\.0\\.1:{sp} \\[{DATE}\\.\\d{{3}}\\] \\[{DATE}\\.\\d{{3}}\\] "
                f"\\[{DATE} [+-]\\d{{4}}\\] (?P<Ts>{N}) \\d{{3}} fe fe be s1 "
                f"{N}/{N}/{N}/{N}/{N}/{N} {N}/{N}/{N}/{N} 200 {N} -- ---- "
                f"{N}/{N}/{N}/{N}/0 0/0 "
                + esc('"GET /a/b?x=1&y=#22q#22 HTTP/1.1" GET /a/b /a/b ?x=1&y=#22q#22 '
                      '/a/b?x=1&y=#22q#22 HTTP/1.1 - - - ')
                + f"{p.pid} 7F000001:{cport:04X} \"fe\" \"be\" s1 % done")
        expect(line, want, "http line")
        ts = int(re.fullmatch(want, line)["Ts"])
        check(abs(ts - time.time()) < 30, f"%Ts {ts} is not now")
    run(body)


def test_http_line_of_a_denied_and_a_bad_request():
    def body(rx, p, hp, tp, sp):
        _, resp = http_exchange(hp, b"GET /deny HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        check(resp.startswith(b"HTTP/1.1 403"), f"response {resp[:60]!r}")
        _, resp = http_exchange(hp, b"BAD\r\n\r\n")
        check(resp.startswith(b"HTTP/1.1 400"), f"response {resp[:60]!r}")
        lines = messages(rx, r"127\.0\.0\.1 \d+ ", 2)
        check(len(lines) == 2, f"want two lines, got {lines!r}")
        deny = [ln for ln in lines if " 403 " in ln]
        bad = [ln for ln in lines if " 400 " in ln]
        check(len(deny) == 1 and len(bad) == 1, f"lines {lines!r}")
        # No server: the backend side's addresses are '-', the server <NOSRV>.
        expect(deny[0], f"127\\.0\\.0\\.1 {N} 127\\.0\\.0\\.1:{hp} -:- -:- .* fe fe fe <NOSRV> "
                        f"{N}/-1/-1/-1/{N}/{N} .* 403 {N} PR PR-- .*"
                        + re.escape('"GET /deny HTTP/1.1" GET /deny /deny  /deny HTTP/1.1 '
                                    '- - - ') + r".* \"fe\" \"fe\" <NOSRV> % done",
               "denied request")
        expect(bad[0], f"127\\.0\\.0\\.1 .* fe fe fe <NOSRV> -1/-1/-1/-1/{N}/{N} .* 400 {N} "
                       f"PR PR-- .*"
                       + re.escape('"<BADREQ>" <BADREQ> <BADREQ> <BADREQ> <BADREQ> <BADREQ> '
                                   '<BADREQ> - - - ') + r".* % done",
               "bad request")
    run(body)


def test_timers_split_the_idle_time_from_the_request_time():
    """A client that waits 200 ms before its request and takes 100 ms to
    send the head: Ti counts the wait, TR the head, Tq = Th + Ti + TR, and
    Tt = Ti + Ta (HAProxy's timeline, configuration.txt 8.4)."""
    def body(rx, p, hp, tp, sp):
        with socket.create_connection(("127.0.0.1", hp), timeout=3) as s:
            time.sleep(0.2)
            s.sendall(b"GET /slow HTTP/1.1\r\nHost: t\r\n")
            time.sleep(0.1)
            s.sendall(b"Connection: close\r\n\r\n")
            while s.recv(65536):
                pass
        lines = messages(rx, r"127\.0\.0\.1 \d+ ", 1)
        check(len(lines) == 1, f"want one line, got {lines!r}")
        m = re.search(r" (-?\d+)/(-?\d+)/(-?\d+)/(-?\d+)/(-?\d+)/(-?\d+)"
                      r" (-?\d+)/(-?\d+)/(-?\d+)/(-?\d+) 200 ", lines[0])
        check(m is not None, f"no timers in {lines[0]!r}")
        tR, tw, tc, tr, ta, tt, th, ti, tq, tu = (int(x) for x in m.groups())
        check(ti >= 190 and tR >= 90, f"Ti {ti} (want >= 190), TR {tR} (want >= 90)")
        check(ti < 1000 and tR < 1000, f"Ti {ti}, TR {tR}: the wait counted twice?")
        check(tq == th + ti + tR, f"Tq {tq} != Th {th} + Ti {ti} + TR {tR}")
        check(abs(tt - (ti + ta)) <= 1, f"Tt {tt} != Ti {ti} + Ta {ta}")
        check(tu == tt - ti, f"Tu {tu} != Tt {tt} - Ti {ti}")
    run(body)


def test_connection_closed_before_any_request_is_logged_as_400_cr():
    null_port = free_port()

    def body(rx, p, hp, tp, sp):
        socket.create_connection(("127.0.0.1", hp), timeout=3).close()
        lines = messages(rx, r"127\.0\.0\.1 \d+ ", 1)
        check(len(lines) == 1, f"want one line, got {lines!r}")
        expect(lines[0], f"127\\.0\\.0\\.1 .* fe fe fe <NOSRV> -1/-1/-1/-1/{N}/{N} .* 400 0 CR CR-- "
                         f".*" + re.escape('"<BADREQ>" <BADREQ> ') + ".*", "empty connection")
        # With option dontlognull the empty connection is not logged; the
        # request after it is.
        socket.create_connection(("127.0.0.1", null_port), timeout=3).close()
        http_exchange(null_port, b"GET /n HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        nulls = messages(rx, r"null ", 2, timeout=0.5)  # a second one would be wrong
        check([ln.split()[-1] for ln in nulls] == ["200"], f"dontlognull lines {nulls!r}")
    run(body, null_port=null_port)


def test_tcp_line():
    def body(rx, p, hp, tp, sp):
        cport, resp = http_exchange(tp, b"GET /t HTTP/1.0\r\nConnection: close\r\n\r\n")
        check(resp.startswith(b"HTTP/1.1 200") or resp.startswith(b"HTTP/1.0 200"),
              f"response {resp[:60]!r}")
        lines = messages(rx, r"tcp ", 1)
        check(len(lines) == 1, f"want one line, got {lines!r}")
        # %U: the 38 request bytes; %B: the whole response; %ST is 0 in tcp.
        expect(lines[0], f"tcp 127\\.0\\.0\\.1:{cport} 127\\.0\\.0\\.1:{tp} 127\\.0\\.0\\.1:{N} "
                         f"127\\.0\\.0\\.1:{sp} ft bt/t1 {N}/{N}/{N} {len(resp)} 38 0 -- ---- "
                         f"{N}/{N}/{N}/{N}/0 0/0 -", "tcp line")
    run(body)


def check_error(fmt, mode, want):
    cfg = (f"defaults\n    mode {mode}\n    timeout connect 1s\n    timeout client 1s\n"
           f"    timeout server 1s\nfrontend fe\n    bind 127.0.0.1:{free_port()}\n"
           f"    log-format \"{fmt}\"\n    default_backend be\nbackend be\n"
           f"    server s1 127.0.0.1:9\n")
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "lf.cfg")
        with open(path, "w") as f:
            f.write(cfg)
        r = run_proxyd(["-c", "-f", path])
    check(r.returncode != 0, f"-c accepted {fmt!r}: {r.stdout}")
    # haproxy: "Parsing [lf.cfg:8]: failed to parse log-format : ..."
    # proxyd:  "lf.cfg:8: failed to parse log-format : ..."
    check(re.search(r"lf\.cfg:8\]?: failed to parse log-format : " + re.escape(want), r.stdout),
          f"{fmt!r}: no file:line error with {want!r} in:\n{r.stdout}")


def test_check_refuses_an_unknown_variable_naming_it():
    check_error("%ci %zz", "http", "no such format variable 'zz'.")


def test_check_refuses_an_http_variable_in_tcp_mode():
    check_error("%ci %HM", "tcp", "format variable 'HM' is reserved for HTTP mode.")


def test_check_refuses_a_lone_percent():
    check_error("%ci 100%", "tcp", "truncated line after '%'.")


if __name__ == "__main__":
    run_tests(globals())
