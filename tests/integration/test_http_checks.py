#!/usr/bin/env python3
"""HTTP health checks (`option httpchk`, `http-check send/expect/connect/
comment`): a backend whose health answer is flipped while the proxy runs
goes DOWN and UP with HAProxy's log lines, traffic leaves a DOWN server,
the configured request reaches the server byte for byte, string/rstatus/
negated expects, timeouts and invalid answers, and the check columns of
`show stat` / `show servers state` on the admin socket.

Written against HAProxy 2.6 first (PROXYD=/usr/sbin/haproxy): every check
here passes there too."""

import contextlib
import os
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import admin_command as cli  # noqa: E402
from harness import (HTTP_DEFAULTS, Conn, HttpBackend, Proxy, check, free_port,  # noqa: E402
                     http_exchange, run_tests, wait_until)


class HealthBackend(HttpBackend):
    """HttpBackend plus health answers that a test changes on the fly:
      /health   `status` `reason`, body `body` (Content-Length framed)
      /silent   no answer at all (the connection stays open)
      /garbage  bytes that are not HTTP, then close
      /flood    a 100000-byte body of "a", the connection kept open"""

    def __init__(self, name: str):
        super().__init__(name)
        self.status = 200
        self.reason = "OK"
        self.body = b"ready\n"

    def checks(self) -> list[dict]:
        return [r for r in self.snapshot() if r["target"] != "/traffic"]

    def _answer(self, conn, rd, method, target, hd, body) -> bool:
        path = target.split("?", 1)[0]
        if path == "/health":
            b = self.body
            conn.sendall(f"HTTP/1.1 {self.status} {self.reason}\r\nContent-Length: {len(b)}\r\n\r\n"
                         .encode() + b)
            return True
        if path == "/silent":
            self._stop.wait(5.0)
            return False
        if path == "/flood":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"a" * 100000)
            self._stop.wait(5.0)
            return False
        if path == "/garbage":
            conn.sendall(b"this is not http\r\n\r\n")
            return False
        return super()._answer(conn, rd, method, target, hd, body)


GLOBAL = "global\n    maxconn 1000\n    log stdout format raw local0\n"


def config(port: int, servers: list[tuple[str, int]], *be_opts: str, server_opts: str = "",
           glob: str = GLOBAL) -> str:
    out = [glob + HTTP_DEFAULTS + "    log global\n    timeout check 1s",
           "frontend fe", f"    bind 127.0.0.1:{port}", "    default_backend app", "",
           "backend app", *[f"    {o}" for o in be_opts]]
    out += [f"    server {n} 127.0.0.1:{p} check inter 200 rise 1 fall 1 {server_opts}".rstrip()
            for n, p in servers]
    return "\n".join(out) + "\n"


def served_by(port: int, n: int) -> dict:
    """Which server answered each of n requests through the proxy (None: no
    200 answer)."""
    seen: dict = {}
    for _ in range(n):
        r = http_exchange(port, b"GET /traffic HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        name = None
        if r.startswith(b"HTTP/1.1 200"):
            name = r.split(b"\r\n\r\n", 1)[1].split(b" ", 1)[0].decode()
        seen[name] = seen.get(name, 0) + 1
    return seen


DOWN_500 = (r"Server app/web1 is DOWN, reason: Layer7 wrong status, code: 500, "
            r"info: \"Internal Server Error\", check duration: \d+ms\. 1 active and 0 backup "
            r"servers left\. 0 sessions active, 0 requeued, 0 remaining in queue\.")
UP_200 = (r"Server app/web1 is UP, reason: Layer7 check passed, code: 200, check duration: "
          r"\d+ms\. 2 active and 0 backup servers online\. 0 sessions requeued, 0 total in queue\.")


def test_a_500_takes_the_server_down_and_a_200_brings_it_back():
    with HealthBackend("web1") as w1, HealthBackend("web2") as w2:
        port = free_port()
        cfg = config(port, [("web1", w1.port), ("web2", w2.port)], "option httpchk GET /health")
        with Proxy(cfg) as p:
            check(wait_until(lambda: len(w1.checks()) >= 2, 3.0), "no check reached web1")
            check(set(served_by(port, 4)) == {"web1", "web2"}, "both servers serve while UP")
            w1.status, w1.reason = 500, "Internal Server Error"
            check(p.wait_output(DOWN_500, 3.0) is not None,
                  f"no DOWN line with HAProxy's text:\n{p.output()[-1500:]}")
            check(served_by(port, 6) == {"web2": 6}, "a DOWN server still gets traffic")
            w1.status, w1.reason = 200, "OK"
            check(p.wait_output(UP_200, 3.0) is not None,
                  f"no UP line with HAProxy's text:\n{p.output()[-1500:]}")
            check(wait_until(lambda: "web1" in served_by(port, 4), 2.0), "web1 gets no traffic back")


def test_redirects_are_healthy_and_4xx_is_not():
    with HealthBackend("web1") as w1:
        port = free_port()
        w1.status, w1.reason = 302, "Found"
        with Proxy(config(port, [("web1", w1.port)], "option httpchk GET /health")) as p:
            check(wait_until(lambda: len(w1.checks()) >= 3, 3.0), "no checks")
            check("is DOWN" not in p.output(), "a 302 must count as healthy")
            w1.status, w1.reason = 404, "Not Found"
            check(p.wait_output(r"web1 is DOWN, reason: Layer7 wrong status, code: 404, "
                                r"info: \"Not Found\"", 3.0) is not None, p.output()[-800:])


def test_disable_on_404_stops_new_traffic_until_the_server_answers_200():
    with HealthBackend("web1") as w1, HealthBackend("web2") as w2, stats_socket() as sock:
        port = free_port()
        glob = GLOBAL + f"    stats socket {sock} level admin\n"
        cfg = config(port, [("web1", w1.port), ("web2", w2.port)], "option httpchk GET /health",
                     "http-check disable-on-404", glob=glob)
        with Proxy(cfg) as p:
            check(wait_until(lambda: len(w1.checks()) >= 2, 3.0), "no check reached web1")
            w1.status, w1.reason = 404, "Not Found"
            check(p.wait_output(r"Server app/web1 is stopping, reason: Layer7 check conditionally "
                                r"passed, code: 404, check duration: \d+ms\. 1 active and 0 backup "
                                r"servers online\. 0 sessions requeued, 0 total in queue\.", 3.0)
                  is not None, p.output()[-1500:])
            row = stat_rows(sock)[("app", "web1")]
            check((row["status"], row["check_status"], row["check_code"]) == ("NOLB", "L7OKC", "404"),
                  f"web1 row: {row['status']} {row['check_status']} {row['check_code']}")
            check(served_by(port, 6) == {"web2": 6}, "a stopping server still gets new traffic")
            w1.status, w1.reason = 200, "OK"
            check(p.wait_output(UP_200, 3.0) is not None, p.output()[-1500:])
            check("is DOWN" not in p.output(), "a 404 must not take the server DOWN")


def test_the_request_is_the_configured_one():
    with HealthBackend("web1") as w1:
        port = free_port()
        cfg = config(port, [("web1", w1.port)],
                     "option httpchk GET /health HTTP/1.1",
                     'http-check send meth PUT hdr Host checks.example hdr X-Check yes '
                     'body "ping"')
        with Proxy(cfg):
            check(wait_until(lambda: w1.checks(), 3.0), "no check came")
            r = w1.checks()[0]
            check((r["method"], r["target"], r["version"]) == ("PUT", "/health", "HTTP/1.1"),
                  f"request line: {r}")
            check(r["headers"] == [("host", "checks.example"), ("x-check", "yes"),
                                   ("content-length", "4"), ("connection", "close")],
                  f"headers: {r['headers']}")
            check(r["body"] == b"ping", f"body: {r['body']!r}")


def test_option_httpchk_defaults_and_legacy_headers():
    with HealthBackend("web1") as w1, HealthBackend("web2") as w2:
        port = free_port()
        cfg = (GLOBAL + HTTP_DEFAULTS + f"frontend fe\n    bind 127.0.0.1:{port}\n"
               "    default_backend a\n"
               f"backend a\n    option httpchk\n    server s 127.0.0.1:{w1.port} check inter 200\n"
               'backend b\n    option httpchk POST /health "HTTP/1.1\\r\\nHost: legacy"\n'
               f"    server s 127.0.0.1:{w2.port} check inter 200\n")
        with Proxy(cfg):
            check(wait_until(lambda: w1.checks() and w2.checks(), 3.0), "no checks came")
            a, b = w1.checks()[0], w2.checks()[0]
            check((a["method"], a["target"], a["version"], a["headers"]) ==
                  ("OPTIONS", "/", "HTTP/1.0", []), f"option httpchk alone: {a}")
            check((b["method"], b["target"], b["version"]) == ("POST", "/health", "HTTP/1.1"), f"{b}")
            check(b["headers"] == [("host", "legacy"), ("content-length", "0"),
                                   ("connection", "close")], f"legacy headers: {b['headers']}")


def test_expect_string_negation_and_rstatus():
    with HealthBackend("web1") as w1, HealthBackend("web2") as w2:
        port = free_port()
        w2.status, w2.reason = 201, "Created"
        cfg = (GLOBAL + HTTP_DEFAULTS + "    timeout check 1s\n"
               f"frontend fe\n    bind 127.0.0.1:{port}\n    default_backend s\n"
               "backend s\n    option httpchk GET /health\n    http-check expect string ready\n"
               f"    server web1 127.0.0.1:{w1.port} check inter 200 rise 1 fall 1\n"
               "backend n\n    option httpchk GET /health\n"
               "    http-check comment \"not in maintenance\"\n"
               "    http-check expect ! string maintenance\n"
               f"    server web1 127.0.0.1:{w1.port} check inter 200 rise 1 fall 1\n"
               "backend r\n    option httpchk GET /health\n    http-check expect rstatus ^20[01]$\n"
               f"    server web2 127.0.0.1:{w2.port} check inter 200 rise 1 fall 1\n")
        with Proxy(cfg) as p:
            check(wait_until(lambda: len(w2.checks()) >= 3, 3.0), "no checks")
            check("is DOWN" not in p.output(), f"all start healthy:\n{p.output()[-800:]}")
            w1.body = b"maintenance\n"
            check(p.wait_output(r"Server s/web1 is DOWN, reason: Layer7 invalid response, info: "
                                r"\"HTTP content check did not match\", check duration: \d+ms",
                                3.0) is not None, p.output()[-1500:])
            check(p.wait_output(r"Server n/web1 is DOWN, reason: Layer7 invalid response, info: "
                                r"\"HTTP check matched unwanted content comment: not in "
                                r"maintenance\"", 3.0) is not None, p.output()[-1500:])
            w2.status, w2.reason = 202, "Accepted"
            check(p.wait_output(r"Server r/web2 is DOWN, reason: Layer7 wrong status, code: 202, "
                                r"info: \"Accepted\"", 3.0) is not None, p.output()[-1500:])


def test_timeout_invalid_response_and_refused():
    with HealthBackend("web1") as w1:
        port = free_port()
        closed = free_port()
        cfg = (GLOBAL + HTTP_DEFAULTS + "    timeout check 300ms\n"
               f"frontend fe\n    bind 127.0.0.1:{port}\n    default_backend t\n"
               "backend t\n    option httpchk GET /silent\n"
               f"    server web1 127.0.0.1:{w1.port} check inter 200 rise 1 fall 1\n"
               "backend g\n    option httpchk GET /garbage\n"
               f"    server web1 127.0.0.1:{w1.port} check inter 200 rise 1 fall 1\n"
               "backend c\n    option httpchk GET /health\n"
               f"    server web1 127.0.0.1:{closed} check inter 200 rise 1 fall 1\n")
        with Proxy(cfg) as p:
            m = p.wait_output(r"Server t/web1 is DOWN, reason: Layer7 timeout, check duration: "
                              r"(\d+)ms\. 0 active", 3.0)
            check(m is not None, p.output()[-1500:])
            check(250 <= int(m.group(1)) <= 1000, f"timeout check 300ms, took {m.group(1)}ms")
            check(p.wait_output(r"Server g/web1 is DOWN, reason: Layer7 invalid response, check "
                                r"duration: \d+ms\. 0 active", 3.0) is not None, p.output()[-1500:])
            check(p.wait_output(r"Server c/web1 is DOWN, reason: Layer4 connection problem, info: "
                                r"\"Connection refused\", check duration: \d+ms", 3.0) is not None,
                  p.output()[-1500:])


def test_an_answer_larger_than_the_check_buffer_is_judged_on_its_start():
    """HAProxy reads at most its buffer (16 KiB): an expect not matched by
    then fails at once instead of waiting for `timeout check`."""
    with HealthBackend("web1") as w1:
        port = free_port()
        cfg = (GLOBAL + HTTP_DEFAULTS + "    timeout check 3s\n"
               f"frontend fe\n    bind 127.0.0.1:{port}\n    default_backend h\n"
               "backend h\n    option httpchk GET /flood\n    http-check expect string zzz\n"
               f"    server web1 127.0.0.1:{w1.port} check inter 200 rise 1 fall 1\n"
               "backend t\n    option tcp-check\n"
               '    tcp-check send "GET /flood HTTP/1.0\\r\\n\\r\\n"\n'
               "    tcp-check expect string zzz\n"
               f"    server web1 127.0.0.1:{w1.port} check inter 200 rise 1 fall 1\n")
        with Proxy(cfg) as p:
            m = p.wait_output(r"Server h/web1 is DOWN, reason: Layer7 invalid response, info: "
                              r"\"HTTP content check did not match\", check duration: (\d+)ms", 2.0)
            check(m is not None and int(m.group(1)) < 1000, p.output()[-1500:])
            m = p.wait_output(r"Server t/web1 is DOWN, reason: Layer7 invalid response, info: "
                              r"\"TCPCHK did not match content 'zzz' at step 2\", check duration: "
                              r"(\d+)ms", 2.0)
            check(m is not None and int(m.group(1)) < 1000, p.output()[-1500:])


def test_http_check_connect_port_and_two_requests():
    with HealthBackend("web1") as w1:
        port = free_port()
        cfg = config(port, [("web1", 1)],  # the server's own port refuses
                     "option httpchk",
                     f"http-check connect port {w1.port}",
                     "http-check send meth GET uri /health?first",
                     "http-check expect status 200",
                     f"http-check connect port {w1.port}",
                     "http-check send meth GET uri /health?second",
                     "http-check expect status 200")
        with Proxy(cfg) as p:
            check(wait_until(lambda: len(w1.checks()) >= 4, 3.0), "no checks")
            targets = [r["target"] for r in w1.checks()[:4]]
            check(targets == ["/health?first", "/health?second"] * 2, f"{targets}")
            w1.status, w1.reason = 503, "Busy"
            check(p.wait_output(r"web1 is DOWN, reason: Layer7 wrong status, code: 503, "
                                r"info: \"Busy\"", 3.0) is not None, p.output()[-800:])


@contextlib.contextmanager
def stats_socket():
    d = tempfile.mkdtemp(prefix="proxyd-hc-")
    try:
        yield os.path.join(d, "admin.sock")
    finally:
        shutil.rmtree(d, ignore_errors=True)


def stat_rows(path: str) -> dict:
    out = cli(path, "show stat")
    lines = out.splitlines()
    header = lines[0].lstrip("# ").split(",")
    rows = {}
    for ln in lines[1:]:
        if ln:
            f = dict(zip(header, ln.split(",")))
            rows[(f["pxname"], f["svname"])] = f
    return rows


def test_show_stat_and_servers_state_report_the_last_check():
    with HealthBackend("web1") as w1, HealthBackend("web2") as w2, stats_socket() as sock:
        port = free_port()
        closed = free_port()
        glob = GLOBAL + f"    stats socket {sock} level admin\n"
        cfg = (glob + HTTP_DEFAULTS + "    timeout check 1s\n"
               f"frontend fe\n    bind 127.0.0.1:{port}\n    default_backend app\n"
               "backend app\n    option httpchk GET /health\n"
               f"    server web1 127.0.0.1:{w1.port} check inter 200 rise 1 fall 1\n"
               f"    server web2 127.0.0.1:{w2.port} check inter 200 rise 1 fall 1\n"
               "backend body\n    option httpchk GET /health\n    http-check expect string nope\n"
               f"    server web1 127.0.0.1:{w1.port} check inter 200 rise 1 fall 1\n"
               "backend tcp\n"
               f"    server up 127.0.0.1:{w1.port} check inter 200 rise 1 fall 1\n"
               f"    server refused 127.0.0.1:{closed} check inter 200 rise 1 fall 1\n"
               "backend tcpchk\n    option tcp-check\n"
               '    tcp-check send "GET /health HTTP/1.0\\r\\n\\r\\n"\n'
               "    tcp-check expect string 200\n"
               f"    server web1 127.0.0.1:{w1.port} check inter 200 rise 1 fall 1\n")
        w2.status, w2.reason = 500, "Internal Server Error"
        with Proxy(cfg) as p:
            check(p.wait_output(r"Server app/web2 is DOWN", 3.0) is not None, p.output()[-800:])
            check(p.wait_output(r"Server body/web1 is DOWN", 3.0) is not None, p.output()[-800:])
            check(p.wait_output(r"Server tcp/refused is DOWN", 3.0) is not None, p.output()[-800:])
            check(wait_until(lambda: os.path.exists(sock), 2.0), "no stats socket")
            check(wait_until(lambda: stat_rows(sock)[("tcpchk", "web1")]["check_status"] == "L7OK",
                             2.0), "no tcp-check result")
            rows = stat_rows(sock)
            cols = ("status", "check_status", "check_code", "last_chk", "check_desc")
            want = {
                ("app", "web1"): ("UP", "L7OK", "200", "", "Layer7 check passed"),
                ("app", "web2"): ("DOWN", "L7STS", "500", "Internal Server Error",
                                  "Layer7 wrong status"),
                ("body", "web1"): ("DOWN", "L7RSP", "", "HTTP content check did not match",
                                   "Layer7 invalid response"),
                ("tcp", "up"): ("UP", "L4OK", "", "", "Layer4 check passed"),
                ("tcp", "refused"): ("DOWN", "L4CON", "", "Connection refused",
                                     "Layer4 connection problem"),
                # HAProxy keeps check->code at 0 for tcp-check rulesets.
                ("tcpchk", "web1"): ("UP", "L7OK", "0", "(tcp-check)", "Layer7 check passed"),
            }
            for key, exp in want.items():
                got = tuple(rows[key][c] for c in cols)
                check(got == exp, f"{key}: {got} != {exp}")
                check(rows[key]["check_duration"].isdigit(), f"{key}: check_duration "
                      f"{rows[key]['check_duration']!r}")
            state = cli(sock, "show servers state app").splitlines()
            fields = state[1].lstrip("# ").split()
            srv = {ln.split()[3]: dict(zip(fields, ln.split())) for ln in state[2:] if ln}
            # HCHK_STATUS_L7OK = 15, L7STS = 17; CHK_RES_PASSED = 3, FAILED = 2.
            check((srv["web1"]["srv_check_status"], srv["web1"]["srv_check_result"]) == ("15", "3"),
                  f"web1: {srv['web1']}")
            check((srv["web2"]["srv_check_status"], srv["web2"]["srv_check_result"]) == ("17", "2"),
                  f"web2: {srv['web2']}")


if __name__ == "__main__":
    run_tests(globals())
