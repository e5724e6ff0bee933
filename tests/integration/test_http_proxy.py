#!/usr/bin/env python3
"""mode http: keep-alive and server connection reuse, X-Forwarded-For, 503
(all servers down, queue timeout), 504, 408, HEAD/204/304, a streamed
chunked upload, pipelining, HTTP/1.0, an Upgrade tunnel, use_backend by
path (the seed's ACLs), curl as a client, the httplog line over syslog, and
a short wrk run."""

import hashlib
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (HTTP_DEFAULTS, Conn, HttpBackend, Proxy, Skip, SyslogReceiver, check,  # noqa: E402
                     free_port, http_exchange, read_response, run_tests, wait_until)


def fe_be(port, servers, fe_opts=(), be_opts=(), defaults=HTTP_DEFAULTS, glob=""):
    out = [glob or "global\n    maxconn 1000\n", defaults, "frontend fe",
           f"    bind 127.0.0.1:{port}", *[f"    {o}" for o in fe_opts], "    default_backend be", "",
           "backend be", *[f"    {o}" for o in be_opts]]
    out += [f"    server {n} 127.0.0.1:{p} {params}".rstrip() for n, p, params in servers]
    return "\n".join(out) + "\n"


def timed_response(port, data, timeout=3.0):
    """(seconds until the whole response came, (status, headers, body) or None)."""
    with Conn(port, timeout=timeout) as c:
        t0 = time.monotonic()
        c.send(data)
        r = read_response(c, timeout)
        return time.monotonic() - t0, r


def get(target="/", host="x", extra=""):
    return f"GET {target} HTTP/1.1\r\nHost: {host}\r\n{extra}\r\n".encode()


def test_keepalive_client_reuses_one_server_connection():
    with HttpBackend("web1") as b:
        port = free_port()
        with Proxy(fe_be(port, [("web1", b.port, "")])), Conn(port) as c:
            for i in range(5):
                c.send(get(f"/r{i}"))
                r = read_response(c)
                check(r is not None and r[0] == 200, f"request {i}: {r!r}")
                check(r[2] == f"web1 GET /r{i} 0\n".encode(), f"body {r[2]!r}")
            check(not c.eof, "the client connection was closed")
        check(len(b.snapshot()) == 5, f"backend saw {len(b.snapshot())} requests")
        check(b.accepted < 5, f"backend accepted {b.accepted} connections for 5 requests")


def test_http_server_close_opens_one_server_connection_per_request():
    # The control for the reuse test above.
    with HttpBackend("web1") as b:
        port = free_port()
        with Proxy(fe_be(port, [("web1", b.port, "")], fe_opts=["option http-server-close"])), \
                Conn(port) as c:
            for i in range(3):
                c.send(get(f"/r{i}"))
                r = read_response(c)
                check(r is not None and r[0] == 200, f"request {i}: {r!r}")
            check(not c.eof, "http-server-close closed the client side")
        check(wait_until(lambda: b.accepted == 3, 2.0), f"backend accepted {b.accepted}, want 3")


def test_x_forwarded_for_reaches_the_backend_unless_excepted():
    with HttpBackend("web1") as b:
        port = free_port()
        with Proxy(fe_be(port, [("web1", b.port, "")], fe_opts=["option forwardfor"])):
            http_exchange(port, get("/", extra="Connection: close\r\n"))
        hd = b.snapshot()[-1]["headers"]
        check(("x-forwarded-for", "127.0.0.1") in hd, f"headers at the backend: {hd!r}")
        port = free_port()
        with Proxy(fe_be(port, [("web1", b.port, "")],
                         fe_opts=["option forwardfor except 127.0.0.0/8"])):
            http_exchange(port, get("/", extra="Connection: close\r\n"))
        hd = b.snapshot()[-1]["headers"]
        check(all(k != "x-forwarded-for" for k, _ in hd), f"excepted client got XFF: {hd!r}")


def test_503_at_once_when_every_server_is_down():
    dead = free_port()
    port = free_port()
    cfg = fe_be(port, [("s1", dead, "check inter 100ms fall 1")])
    with Proxy(cfg) as p:
        p.wait_output(r"s1 is DOWN", 3.0)
        time.sleep(0.2)
        t0, r = timed_response(port, get())
    check(r is not None and r[0] == 503, f"answer {r!r}")
    check(t0 < 0.5, f"503 took {t0:.2f}s")


def test_503_after_timeout_queue_when_the_server_is_full():
    with HttpBackend("web1") as b:
        port = free_port()
        cfg = fe_be(port, [("web1", b.port, "maxconn 1")], be_opts=["timeout queue 300ms"])
        with Proxy(cfg), Conn(port) as c1:
            c1.send(get("/slow/1500"))
            time.sleep(0.2)
            dt, r = timed_response(port, get("/"))
            check(r is not None and r[0] == 503, f"queued request got {r!r}")
            check(0.2 <= dt < 1.2, f"503 after {dt:.2f}s, want about 0.3s")
            r = read_response(c1, 3.0)
            check(r is not None and r[0] == 200, f"the slow request: {r!r}")


def test_504_when_the_server_is_too_slow():
    with HttpBackend("web1") as b:
        port = free_port()
        cfg = fe_be(port, [("web1", b.port, "")],
                    defaults=HTTP_DEFAULTS.replace("timeout server 5s", "timeout server 300ms"))
        with Proxy(cfg):
            dt, r = timed_response(port, get("/slow/1500"))
    check(r is not None and r[0] == 504, f"answer {r!r}")
    check(dt < 1.2, f"504 after {dt:.2f}s")


def test_408_when_the_head_does_not_arrive_within_timeout_http_request():
    port = free_port()
    cfg = fe_be(port, [("web1", free_port(), "")],
                defaults=HTTP_DEFAULTS + "    timeout http-request 300ms\n")
    with Proxy(cfg), Conn(port) as c:
        c.send(b"GET / HTTP/1.1\r\nHost: x\r\n")
        t0 = time.monotonic()
        check(c.wait_closed(3.0) is not None, "not closed")
        dt = time.monotonic() - t0
    check(c.buf.startswith(b"HTTP/1.1 408 "), f"answer {c.buf[:80]!r}")
    check(dt < 1.0, f"408 after {dt:.2f}s")


def test_head_204_304_have_no_body_and_keep_the_connection():
    with HttpBackend("web1") as b:
        port = free_port()
        with Proxy(fe_be(port, [("web1", b.port, "")])), Conn(port) as c:
            c.send(b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n")
            r = read_response(c, head_only=True)
            check(r is not None and r[0] == 200 and "content-length" in r[1], f"HEAD: {r!r}")
            for code in (204, 304):
                c.send(get(f"/status/{code}"))
                r = read_response(c)
                check(r is not None and r[0] == code, f"{code}: {r!r}")
            c.send(get("/after"))
            r = read_response(c)
            check(r is not None and r[2] == b"web1 GET /after 0\n", f"after: {r!r} {c.buf!r}")


def test_chunked_upload_of_1mib_arrives_intact():
    body = hashlib.sha256(b"seed").digest() * (1 << 15)  # 1 MiB
    with HttpBackend("web1") as b:
        port = free_port()
        with Proxy(fe_be(port, [("web1", b.port, "")])), Conn(port, timeout=10) as c:
            c.send(b"POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
            for i in range(0, len(body), 65536):
                part = body[i:i + 65536]
                c.send(b"%x\r\n" % len(part) + part + b"\r\n")
            c.send(b"0\r\n\r\n")
            r = read_response(c, 10.0)
            check(r is not None and r[0] == 200, f"answer {r!r}")
            check(r[2] == f"web1 POST /up {len(body)}\n".encode(), f"body {r[2]!r}")
        got = b.snapshot()[-1]["body"]
    check(hashlib.sha256(got).digest() == hashlib.sha256(body).digest(), "the body changed on the way")


def test_pipelined_requests_are_answered_in_order():
    with HttpBackend("web1") as b:
        port = free_port()
        with Proxy(fe_be(port, [("web1", b.port, "")])), Conn(port) as c:
            c.send(get("/p1") + get("/p2") + get("/p3"))
            bodies = []
            for _ in range(3):
                r = read_response(c)
                check(r is not None, f"missing response after {bodies!r}")
                bodies.append(r[2])
    check(bodies == [f"web1 GET /p{i} 0\n".encode() for i in (1, 2, 3)], f"bodies {bodies!r}")


def test_http10_client_gets_its_answer_and_a_close():
    with HttpBackend("web1") as b:
        port = free_port()
        with Proxy(fe_be(port, [("web1", b.port, "")])):
            out = http_exchange(port, b"GET /old HTTP/1.0\r\n\r\n")
    check(re.match(rb"HTTP/1\.[01] 200 ", out) is not None, f"answer {out[:80]!r}")
    check(out.endswith(b"web1 GET /old 0\n"), f"answer {out!r}")


def test_upgrade_switches_to_a_tunnel():
    with HttpBackend("web1") as b:
        port = free_port()
        with Proxy(fe_be(port, [("web1", b.port, "")],
                         defaults=HTTP_DEFAULTS + "    timeout tunnel 10s\n")), Conn(port) as c:
            c.send(b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
            r = read_response(c)
            check(r is not None and r[0] == 101, f"answer {r!r}")
            c.send(b"ping\n")
            check(c.line(2.0) == "ping", "no echo through the tunnel")
            c.send(b"\x00\xffbinary\n")
            check(c.line(2.0) == "\x00\ufffdbinary", "no binary echo")


SEED_FRONTEND = """\
frontend main
    bind 127.0.0.1:{port}
    acl url_static       path_beg       -i /static /images /javascript /stylesheets
    acl url_static       path_end       -i .jpg .gif .png .css .js
    use_backend static          if url_static
    default_backend             app

backend static
    balance     roundrobin
    server      static 127.0.0.1:{static}

backend app
    balance     roundrobin
    server  app1 127.0.0.1:{app1}
    server  app2 127.0.0.1:{app2}
"""


def test_seed_routing_static_and_app_by_path():
    with HttpBackend("static") as s, HttpBackend("app1") as a1, HttpBackend("app2") as a2:
        port = free_port()
        cfg = ("global\n    maxconn 1000\n" + HTTP_DEFAULTS + "    option http-server-close\n"
               + SEED_FRONTEND.format(port=port, static=s.port, app1=a1.port, app2=a2.port))
        proxy = Proxy(cfg)
        try:
            proxy.start()
        except RuntimeError as e:
            # ACLs arrive with the config parser's phase 2; until then the
            # routing cannot be configured.
            if "'acl' is not supported yet" in str(e):
                raise Skip("acl not supported yet by the config parser") from None
            raise
        try:
            seen = {}
            with Conn(port) as c:
                for target in ("/static/a.txt", "/IMAGES/x", "/x/y.JPG", "/a.css", "/", "/index.html",
                               "/api", "/stat.txt"):
                    c.send(get(target))
                    r = read_response(c)
                    check(r is not None, f"{target}: no answer")
                    seen[target] = r[1].get("x-server")
        finally:
            proxy.stop()
    check(all(seen[t] == "static" for t in ("/static/a.txt", "/IMAGES/x", "/x/y.JPG", "/a.css")),
          f"static routing: {seen!r}")
    check({seen[t] for t in ("/", "/index.html", "/api", "/stat.txt")} == {"app1", "app2"},
          f"app routing (roundrobin over app1, app2): {seen!r}")


def test_curl_as_a_client():
    if not shutil.which("curl"):
        raise Skip("curl not installed")
    with HttpBackend("web1") as b:
        port = free_port()
        with Proxy(fe_be(port, [("web1", b.port, "")])):
            out = subprocess.run(["curl", "-s", "--max-time", "5", f"http://127.0.0.1:{port}/hello?x=1",
                                  f"http://127.0.0.1:{port}/again"],
                                 capture_output=True, timeout=10).stdout
    check(out == b"web1 GET /hello?x=1 0\nweb1 GET /again 0\n", f"curl got {out!r}")
    check(b.accepted == 1, f"curl's two requests used {b.accepted} server connections")


HTTPLOG = (r"(?P<ci>[0-9.]+):(?P<cp>\d+) \[(?P<tr>\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d\.\d{3})\]"
           r" (?P<ft>\S+) (?P<b>[^/\s]+)/(?P<s>\S+)"
           r" (?P<TR>-1|\d+)/(?P<Tw>-1|\d+)/(?P<Tc>-1|\d+)/(?P<Tr>-1|\d+)/(?P<Ta>\d+)"
           r" (?P<ST>-?\d+) (?P<B>\d+) - - (?P<tsc>\S{4})"
           r" (?P<ac>\d+)/(?P<fc>\d+)/(?P<bc>\d+)/(?P<sc>\d+)/(?P<rc>\d+) (?P<sq>\d+)/(?P<bq>\d+)"
           r" \"(?P<r>[^\"]*)\"")


def test_httplog_line_over_udp_syslog():
    with SyslogReceiver() as rx, HttpBackend("web1") as b:
        port = free_port()
        glob = f"global\n    maxconn 1000\n    log 127.0.0.1:{rx.port} local0\n"
        cfg = fe_be(port, [("web1", b.port, "")], fe_opts=["log global", "option httplog"],
                    glob=glob)
        with Proxy(cfg):
            with Conn(port) as c:
                cport = c.sock.getsockname()[1]
                c.send(get("/logged?q=1"))
                check(read_response(c) is not None, "no answer")
            http_exchange(port, b"GET / HTTP/1.1\r\nHost: a\r\nX: b\rc\r\n\r\n")
            ok = wait_until(lambda: len([m for m in rx.snapshot() if re.search(HTTPLOG, m)]) >= 2, 3.0)
            msgs = rx.snapshot()
    check(ok, f"want 2 httplog lines, got {msgs!r}")
    lines = [re.search(HTTPLOG, m) for m in msgs]
    good = [m for m in lines if m and m["r"] == "GET /logged?q=1 HTTP/1.1"]
    check(len(good) == 1, f"no line for the request: {msgs!r}")
    g = good[0]
    check(g["ci"] == "127.0.0.1" and int(g["cp"]) == cport, f"client {g['ci']}:{g['cp']}")
    check((g["ft"], g["b"], g["s"], g["ST"], g["tsc"]) == ("fe", "be", "web1", "200", "----"),
          f"fields {g.groupdict()!r}")
    check(g["TR"] != "-1" and g["Tc"] != "-1" and g["Tr"] != "-1", f"timers {g.groupdict()!r}")
    bad = [m for m in lines if m and m["r"] == "<BADREQ>"]
    check(len(bad) == 1, f"no <BADREQ> line: {msgs!r}")
    check((bad[0]["ST"], bad[0]["tsc"], bad[0]["s"]) == ("400", "PR--", "<NOSRV>"),
          f"bad request line {bad[0].group(0)!r}")


def test_wrk_short_keepalive_run():
    if not shutil.which("wrk"):
        raise Skip("wrk not installed")
    with HttpBackend("web1") as b:
        port = free_port()
        with Proxy(fe_be(port, [("web1", b.port, "")])):
            out = subprocess.run(["wrk", "-t1", "-c4", "-d2s", f"http://127.0.0.1:{port}/"],
                                 capture_output=True, text=True, timeout=20).stdout
    m = re.search(r"(\d+) requests in", out)
    check(m is not None and int(m.group(1)) > 100, f"wrk: {out}")
    check("Non-2xx" not in out and "Socket errors" not in out, f"wrk errors: {out}")
    check(b.accepted <= 8, f"{b.accepted} server connections for {m.group(1)} keep-alive requests")


if __name__ == "__main__":
    run_tests(globals())
