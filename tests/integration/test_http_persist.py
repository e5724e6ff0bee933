#!/usr/bin/env python3
"""mode http: layer-7 hashing (balance uri, url_param, hdr(...) with
map-based and consistent hashing, round robin when the element is absent)
and cookie persistence (insert indirect nocache, redispatch when the
cookie's server died, rewrite and prefix modes on a server's own cookie),
with the cookie characters of the httplog termination state.

The backends are separate python processes (a small HTTP/1.1 server below)
so that one can be killed by pid. Each answers with X-Server (its name)
and X-Seen-Cookie (the Cookie headers it received, "-" when none); ?sc=V
makes it send "Set-Cookie: V", ?etag=1 an ETag (a cacheable response)."""

import hashlib
import os
import re
import subprocess
import sys
import time
import urllib.parse
import zlib
import http.client

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (HTTP_DEFAULTS, Proxy, check, free_port, is_listening, pid_alive,  # noqa: E402
                     run_tests, stop_pid, wait_until)

SERVER = r"""
import http.server, sys, urllib.parse
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        n = int(self.headers.get("content-length") or 0)
        if n:
            self.rfile.read(n)
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        body = sys.argv[2].encode()
        self.send_response(200)
        self.send_header("X-Server", sys.argv[2])
        self.send_header("X-Seen-Cookie", " | ".join(self.headers.get_all("cookie") or ["-"]))
        for v in q.get("sc", []):
            self.send_header("Set-Cookie", v)
        if q.get("etag"):
            self.send_header("ETag", '"v1"')
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    do_POST = do_HEAD = do_GET
    def log_message(self, *a):
        pass
class S(http.server.ThreadingHTTPServer):
    daemon_threads = True
    def handle_error(self, *a):
        pass
S(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"""


class Server:
    """One backend process; stop() kills it by pid."""

    def __init__(self, name):
        self.name = name
        self.port = free_port()
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen([sys.executable, "-c", SERVER, str(self.port), self.name],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        if not wait_until(lambda: is_listening(self.port), 5.0):
            self.stop()
            raise RuntimeError(f"backend {self.name} did not start")
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            stop_pid(self.proc.pid, wait=lambda t: _wait(self.proc, t))
        if self.proc:
            self.proc.wait(timeout=5)


def _wait(proc, t):
    try:
        proc.wait(timeout=t)
        return True
    except subprocess.TimeoutExpired:
        return False


class Servers:
    def __init__(self, *names):
        self.list = [Server(n) for n in names]

    def __enter__(self):
        try:
            for s in self.list:
                s.start()
        except Exception:
            self.__exit__()
            raise
        return self.list

    def __exit__(self, *exc):
        for s in self.list:
            s.stop()


def config(port, servers, *be_opts, server_opts=lambda s: ""):
    out = ["global", "    maxconn 1000", "    log stdout format raw local0", HTTP_DEFAULTS,
           "frontend fe", f"    bind 127.0.0.1:{port}", "    log global", "    option httplog",
           "    default_backend be", "", "backend be", *[f"    {o}" for o in be_opts]]
    out += [f"    server {s.name} 127.0.0.1:{s.port} {server_opts(s)}".rstrip() for s in servers]
    return "\n".join(out) + "\n"


def get(port, target, headers=None, method="GET"):
    """(status, [(name lower-cased, value)...], body) over a new connection."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        c.request(method, target, headers=headers or {})
        r = c.getresponse()
        body = r.read()
        return r.status, [(k.lower(), v) for k, v in r.getheaders()], body.decode()
    finally:
        c.close()


def hdrs(resp, name):
    return [v for k, v in resp[1] if k == name]


def served_by(resp):
    check(resp[0] == 200, f"status {resp[0]}: {resp!r}")
    return hdrs(resp, "x-server")[0]


def sdbm(s: str) -> int:
    h = 0
    for c in s.encode():
        h = (c + (h << 6) + (h << 16) - h) & 0xFFFFFFFF
    return h


def djb2(s: str) -> int:
    h = 5381
    for c in s.encode():
        h = (h * 33 + c) & 0xFFFFFFFF
    return h


def wt6(s: str) -> int:
    m = 0xFFFFFFFF
    h0, h1, step0, step1 = 0xa53c965a, 0x5ca6953a, 6, 18
    for t in s.encode():
        h0 = ~(h0 ^ t) & m
        h1 = ~(h1 + t) & m
        t = ((h1 << step0) | (h1 >> (32 - step0))) & m
        h1 = ((h0 << step1) | (h0 >> (32 - step1))) & m
        h0 = t
        t = ((h0 >> 16) ^ h1) & 0xffff
        step0, step1 = t & 0x1f, t >> 11
    return h0 ^ h1


def avalanche(a: int) -> int:
    m = 0xFFFFFFFF
    a = ((a + 0x7ed55d16) + (a << 12)) & m
    a = ((a ^ 0xc761c23c) ^ (a >> 19)) & m
    a = ((a + 0x165667b1) + (a << 5)) & m
    a = ((a + 0xd3a2646c) ^ (a << 9)) & m
    a = ((a + 0xfd7046c5) + (a << 3)) & m
    a = ((a ^ 0xb55a4f09) ^ (a >> 16)) & m
    return (a * 3221225473) & m


HASHES = {"sdbm": sdbm, "djb2": djb2, "wt6": wt6, "crc32": lambda s: zlib.crc32(s.encode())}


def log_lines(proxy, n, timeout=3.0):
    """The first n httplog lines of the proxy's output."""
    wait_until(lambda: len(re.findall(r'"GET ', proxy.output())) >= n, timeout)
    return [ln for ln in proxy.output().splitlines() if '"GET ' in ln or '"POST ' in ln]


def tsc(line):
    """%tsc of an httplog line (the 4 characters after the captures)."""
    m = re.search(r" - - (\S{4}) ", line)
    return m.group(1) if m else None


# --------------------------------------------------------------------------
# balance uri / url_param / hdr

def test_balance_uri_map_based_sends_each_uri_to_its_hash_server():
    with Servers("s1", "s2", "s3") as srv:
        port = free_port()
        with Proxy(config(port, srv, "balance uri")):
            uris = [f"/{hashlib.md5(str(i).encode()).hexdigest()[:8]}/page" for i in range(24)]
            seen = {}
            for u in uris:
                names = {served_by(get(port, u + f"?n={k}")) for k in range(3)}
                check(len(names) == 1, f"{u} went to {names}")
                seen[u] = names.pop()
            # HAProxy: map[sdbm(path before '?') % total weight], the map
            # listing equal-weight servers in declaration order.
            for u, name in seen.items():
                want = srv[sdbm(u) % 3].name
                check(name == want, f"{u} went to {name}, sdbm says {want}")
            check(len(set(seen.values())) == 3, f"24 uris used {set(seen.values())}")


def test_hash_type_functions_and_avalanche_pick_the_same_servers_as_haproxy():
    with Servers("s1", "s2", "s3") as srv:
        for fn, f in HASHES.items():
            for aval in (False, True):
                port = free_port()
                opt = f"hash-type map-based {fn}" + (" avalanche" if aval else "")
                with Proxy(config(port, srv, "balance uri", opt)):
                    for i in range(9):
                        u = f"/{hashlib.md5(str(i).encode()).hexdigest()[:6]}"
                        h = avalanche(f(u)) if aval else f(u)
                        got = served_by(get(port, u))
                        check(got == srv[h % 3].name, f"{opt}: {u} went to {got}, want {srv[h % 3].name}")


def test_balance_uri_consistent_whole_and_depth():
    with Servers("s1", "s2", "s3") as srv:
        port = free_port()
        with Proxy(config(port, srv, "balance uri whole", "hash-type consistent")):
            # whole: the query string counts; the same full URI sticks.
            seen = {}
            for i in range(20):
                u = f"/p?q={hashlib.md5(str(i).encode()).hexdigest()[:10]}"
                names = {served_by(get(port, u)) for _ in range(3)}
                check(len(names) == 1, f"{u} went to {names}")
                seen[u] = names.pop()
            check(len(set(seen.values())) >= 2, f"20 query strings all went to {set(seen.values())}")
        port = free_port()
        with Proxy(config(port, srv, "balance uri depth 1", "hash-type consistent")):
            # depth 1: only "/dir" is hashed, whatever follows.
            for i in range(6):
                d = hashlib.md5(str(i).encode()).hexdigest()[:6]
                names = {served_by(get(port, f"/{d}/{k}/x.html")) for k in range(4)}
                check(len(names) == 1, f"/{d}/* went to {names}")


def test_balance_url_param_and_round_robin_without_it():
    with Servers("s1", "s2", "s3") as srv:
        port = free_port()
        with Proxy(config(port, srv, "balance url_param user")):
            seen = {}
            for i in range(15):
                user = hashlib.md5(str(i).encode()).hexdigest()[:8]
                names = {served_by(get(port, f"/a?x=1&user={user}")),
                         served_by(get(port, f"/b/c?user={user}&y=2")),
                         served_by(get(port, f"/?user={user}"))}
                check(len(names) == 1, f"user {user} went to {names}")
                seen[user] = names.pop()
                check(seen[user] == srv[sdbm(user) % 3].name,
                      f"user {user} on {seen[user]}, sdbm says {srv[sdbm(user) % 3].name}")
            check(len(set(seen.values())) >= 2, f"15 users all went to {set(seen.values())}")
            # No such parameter (or a look-alike): round robin.
            names = [served_by(get(port, t)) for t in ["/a", "/a?users=x", "/a?x=user=1"] * 2]
            counts = {n: names.count(n) for n in set(names)}
            check(counts == {"s1": 2, "s2": 2, "s3": 2}, f"without the parameter: {names}")


def test_balance_hdr_use_domain_only_and_round_robin_without_the_header():
    with Servers("s1", "s2", "s3") as srv:
        port = free_port()
        with Proxy(config(port, srv, "balance hdr(X-Tenant)", "hash-type consistent")):
            seen = {}
            for i in range(15):
                t = hashlib.md5(str(i).encode()).hexdigest()[:8]
                names = {served_by(get(port, f"/{k}", {"X-Tenant": t})) for k in range(3)}
                check(len(names) == 1, f"tenant {t} went to {names}")
                seen[t] = names.pop()
            check(len(set(seen.values())) >= 2, f"15 tenants all went to {set(seen.values())}")
            names = [served_by(get(port, "/")) for _ in range(6)]
            check(len(set(names)) == 3, f"without the header (round robin): {names}")
        port = free_port()
        with Proxy(config(port, srv, "balance hdr(Host) use_domain_only")):
            for i in range(6):
                d = hashlib.md5(str(i).encode()).hexdigest()[:8]
                names = {served_by(get(port, "/", {"Host": f"{h}.{d}.com"}))
                         for h in ("www", "api", "static")}
                check(len(names) == 1, f"hosts of {d}.com went to {names}")
                check(names.pop() == srv[sdbm(d) % 3].name, f"{d}.com: not sdbm('{d}')'s server")
        port = free_port()
        with Proxy(config(port, srv, "balance hdr(X-Domain) use_domain_only")):
            # HAProxy's walk back from the end, odd inputs included.
            for value, hashed in [("www.shop.example", "shop"), (".org", ".org"), ("..org", "."),
                                  ("a..org", "a."), ("example.org.", "org"), ("nodot", "nodot")]:
                got = served_by(get(port, "/", {"X-Domain": value}))
                check(got == srv[sdbm(hashed) % 3].name, f"{value!r}: {got}, want sdbm({hashed!r})")


# --------------------------------------------------------------------------
# cookie persistence

def test_cookie_insert_indirect_nocache_sticks_and_hides_the_cookie():
    with Servers("s1", "s2", "s3") as srv:
        port = free_port()
        cfg = config(port, srv, "cookie SRV insert indirect nocache",
                     server_opts=lambda s: f"cookie c-{s.name}")
        with Proxy(cfg) as p:
            first = get(port, "/?etag=1")
            name = served_by(first)
            check(hdrs(first, "set-cookie") == [f"SRV=c-{name}; path=/"],
                  f"first response's cookies: {hdrs(first, 'set-cookie')}")
            check(hdrs(first, "cache-control") == ["private"],
                  f"nocache on a cacheable response: {hdrs(first, 'cache-control')}")
            # Not cacheable (no validator, no freshness): no Cache-control.
            plain = get(port, "/plain")
            check(hdrs(plain, "set-cookie") and not hdrs(plain, "cache-control"),
                  f"non-cacheable response: {plain[1]}")
            for i in range(20):
                r = get(port, f"/r{i}?etag=1", {"Cookie": f"SRV=c-{name}"})
                check(served_by(r) == name, f"request {i} with the cookie went to {served_by(r)}")
                check(hdrs(r, "x-seen-cookie") == ["-"], f"the server saw {hdrs(r, 'x-seen-cookie')}")
                check(not hdrs(r, "set-cookie") and not hdrs(r, "cache-control"),
                      f"request {i}: the cookie was sent again: {r[1]}")
            r = get(port, "/mixed", {"Cookie": f"a=1; SRV=c-{name}; b=2"})
            check(served_by(r) == name and hdrs(r, "x-seen-cookie") == ["a=1; b=2"],
                  f"other cookies: {r[1]}")
            r = get(port, "/bad", {"Cookie": "SRV=nobody"})
            check(hdrs(r, "set-cookie") == [f"SRV=c-{served_by(r)}; path=/"], f"invalid cookie: {r[1]}")
            lines = log_lines(p, 24)
            check(len(lines) >= 24, f"log lines: {lines}")
            check(tsc(lines[0]) == "--NI", f"first line: {lines[0]}")
            check(all(tsc(ln) == "--VN" for ln in lines[2:22]), f"lines: {lines[2:22]}")
            check(tsc(lines[23]) == "--II", f"invalid cookie line: {lines[23]}")


def test_cookie_header_forms_as_haproxy_reads_them():
    with Servers("s1", "s2") as srv:
        port = free_port()
        cfg = config(port, srv, "cookie SRV insert indirect", server_opts=lambda s: f"cookie {s.name}")
        with Proxy(cfg) as p:
            # (Cookie header, server, what the server sees)
            for value, server, seen in [("SRV=s1; $Path=/; a=1", "s1", "a=1"),
                                        ("a=1; SRV=s2; $Path=/", "s2", "a=1"),
                                        ("SRV = s1 ; a=1", "s1", "a=1"),
                                        ("a=1, SRV=s2, b=2", "s2", "a=1, b=2"),
                                        ("x = 1; SRV=s2", "s2", "x=1"),
                                        ("SRV=s2; SRV=s1", "s2", "-")]:
                r = get(port, "/", {"Cookie": value})
                check(served_by(r) == server and hdrs(r, "x-seen-cookie") == [seen],
                      f"{value!r}: {served_by(r)}, server saw {hdrs(r, 'x-seen-cookie')}")
            check(all(tsc(ln) == "--VN" for ln in log_lines(p, 6)), f"log: {p.output()}")
        port = free_port()
        # A plain passive cookie selects servers but shows no flags in the log.
        cfg = config(port, srv, "cookie SRV", server_opts=lambda s: f"cookie {s.name}")
        with Proxy(cfg) as p:
            for _ in range(4):
                check(served_by(get(port, "/", {"Cookie": "SRV=s2"})) == "s2", "passive cookie")
            check(all(tsc(ln) == "----" for ln in log_lines(p, 4)), f"log: {p.output()}")
        port = free_port()
        sc = urllib.parse.quote("SRV = abc ; Path=/")
        cfg = config(port, srv, "cookie SRV rewrite", server_opts=lambda s: f"cookie {s.name}")
        with Proxy(cfg):
            r = get(port, f"/?sc={sc}")
            check(hdrs(r, "set-cookie") == [f"SRV={served_by(r)} ; Path=/"], f"rewrite: {r[1]}")


def test_cookie_of_a_dead_server_redispatches_and_gets_a_new_cookie():
    with Servers("s1", "s2") as srv:
        port = free_port()
        cfg = config(port, srv, "cookie SRV insert indirect", "option redispatch",
                     server_opts=lambda s: f"cookie {s.name} check inter 100 fall 1 rise 1")
        with Proxy(cfg) as p:
            first = get(port, "/")
            name = served_by(first)
            victim = next(s for s in srv if s.name == name)
            other = next(s for s in srv if s.name != name).name
            victim.stop()
            check(not pid_alive(victim.proc.pid), "the backend still runs")
            check(p.wait_output(rf"{name} is DOWN", 5.0) is not None,
                  f"the dead server never went DOWN:\n{p.output()}")
            r = get(port, "/", {"Cookie": f"SRV={name}"})
            check(served_by(r) == other, f"served by {served_by(r)}")
            check(hdrs(r, "set-cookie") == [f"SRV={other}; path=/"], f"new cookie: {r[1]}")
            r = get(port, "/", {"Cookie": f"SRV={other}"})
            check(served_by(r) == other and not hdrs(r, "set-cookie"), f"new cookie used: {r[1]}")
            lines = log_lines(p, 3)
            check(tsc(lines[1]) == "--DI", f"log line: {lines[1]}")
            check(tsc(lines[2]) == "--VN", f"log line: {lines[2]}")


def test_option_persist_tries_the_down_server_first():
    for redispatch in (True, False):
        with Servers("s1", "s2") as srv:
            port = free_port()
            opts = ["cookie SRV insert indirect", "option persist", "retries 1"]
            if redispatch:
                opts.append("option redispatch")
            cfg = config(port, srv, *opts,
                         server_opts=lambda s: f"cookie {s.name} check inter 100 fall 1 rise 1")
            with Proxy(cfg) as p:
                srv[0].stop()
                check(p.wait_output(r"s1 is DOWN", 5.0) is not None, "s1 never went DOWN")
                r = get(port, "/", {"Cookie": "SRV=s1"})
                line = log_lines(p, 1)[0]
                if redispatch:
                    check(served_by(r) == "s2" and hdrs(r, "set-cookie") == ["SRV=s2; path=/"],
                          f"persist + redispatch: {r[1]}")
                    check(tsc(line) == "--DI" and " 1/1/0/0/+1 " in line, f"log: {line}")
                else:
                    check(r[0] == 503, f"persist without redispatch: {r[0]}")
                    check(tsc(line) == "SCDN", f"log: {line}")


def test_cookie_server_refusing_without_checks_redispatch_or_503():
    # No health checks: the cookie's server looks UP, the connection fails.
    with Servers("s1", "s2") as srv:
        victim = srv[0]
        victim.stop()
        port = free_port()
        cfg = config(port, srv, "cookie SRV insert indirect", "option redispatch", "retries 1",
                     server_opts=lambda s: f"cookie {s.name}")
        with Proxy(cfg) as p:
            r = get(port, "/", {"Cookie": "SRV=s1"})
            check(served_by(r) == "s2", f"redispatched to {served_by(r)}")
            check(hdrs(r, "set-cookie") == ["SRV=s2; path=/"], f"new cookie: {r[1]}")
            line = log_lines(p, 1)[0]
            # HAProxy marks the cookie D(own) when it redispatches away from it.
            check(tsc(line) == "--DI" and " 1/1/0/0/+1 " in line, f"log line: {line}")
        port = free_port()
        cfg = config(port, srv, "cookie SRV insert indirect", "retries 1",
                     server_opts=lambda s: f"cookie {s.name}")
        with Proxy(cfg) as p:
            r = get(port, "/", {"Cookie": "SRV=s1"})
            check(r[0] == 503, f"without redispatch: {r[0]}")
            line = log_lines(p, 1)[0]
            check(tsc(line) == "SCVN" and " s1 " not in line and "be/s1 " in line,
                  f"log line: {line}")


B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def date_field(unix):
    v = unix >> 2
    return "".join(B64[(v >> (24 - 6 * i)) & 0x3F] for i in range(5))


def test_cookie_maxidle_maxlife_dates():
    with Servers("s1", "s2") as srv:
        port = free_port()
        cfg = config(port, srv, "cookie SRV insert indirect maxidle 1h maxlife 8h",
                     server_opts=lambda s: f"cookie {s.name}")
        with Proxy(cfg) as p:
            before = int(time.time())
            r = get(port, "/")
            name = served_by(r)
            sc = hdrs(r, "set-cookie")
            m = re.fullmatch(rf"SRV={name}\|([A-Za-z0-9+/]{{5}})\|([A-Za-z0-9+/]{{5}}); path=/",
                             sc[0] if sc else "")
            check(m is not None, f"dated cookie: {sc}")
            check(m.group(1) == m.group(2), f"first and last dates differ: {sc}")
            check(m.group(1) in (date_field(before + 3), date_field(before + 4), date_field(before + 7)),
                  f"date {m.group(1)} is not now ({date_field(before + 3)})")
            now = int(time.time())
            first = date_field(now - 3600)
            # Seen a minute ago: valid, and re-sent with a fresh last date.
            r = get(port, "/", {"Cookie": f"SRV={name}|{date_field(now - 60)}|{first}"})
            check(served_by(r) == name, f"fresh cookie went to {served_by(r)}")
            sc = hdrs(r, "set-cookie")
            check(len(sc) == 1 and sc[0].endswith(f"|{first}; path=/"), f"updated cookie: {sc}")
            # Idle for two hours: expired, balanced again.
            r = get(port, "/", {"Cookie": f"SRV={name}|{date_field(now - 7200)}|{first}"})
            check(hdrs(r, "set-cookie"), f"expired cookie: no new cookie: {r[1]}")
            # First seen nine hours ago: too old.
            r = get(port, "/", {"Cookie": f"SRV={name}|{date_field(now - 60)}|{date_field(now - 9 * 3600)}"})
            check(hdrs(r, "set-cookie"), f"old cookie: no new cookie: {r[1]}")
            lines = log_lines(p, 4)
            check([tsc(ln) for ln in lines[:4]] == ["--NI", "--VU", "--EI", "--OI"],
                  f"log: {[tsc(ln) for ln in lines[:4]]}")


def test_cookie_rewrite_and_prefix_modes_edit_the_servers_cookie():
    with Servers("s1", "s2") as srv:
        port = free_port()
        sc = urllib.parse.quote("JSESSIONID=abc123; Path=/")
        cfg = config(port, srv, "cookie JSESSIONID rewrite", server_opts=lambda s: f"cookie {s.name}")
        with Proxy(cfg) as p:
            r = get(port, f"/login?sc={sc}")
            name = served_by(r)
            check(hdrs(r, "set-cookie") == [f"JSESSIONID={name}; Path=/"], f"rewrite: {r[1]}")
            for _ in range(5):
                r = get(port, "/", {"Cookie": f"JSESSIONID={name}"})
                check(served_by(r) == name, f"rewrite: went to {served_by(r)}")
                check(hdrs(r, "x-seen-cookie") == [f"JSESSIONID={name}"], f"rewrite: {r[1]}")
            r = get(port, "/", {"Cookie": f"JSESSIONID={name}"})
            lines = log_lines(p, 2)
            check(tsc(lines[0]) == "--NR", f"rewrite log: {lines[0]}")
            check(tsc(lines[1]) == "--VN", f"rewrite log: {lines[1]}")
        port = free_port()
        cfg = config(port, srv, "cookie JSESSIONID prefix", server_opts=lambda s: f"cookie {s.name}")
        with Proxy(cfg) as p:
            r = get(port, f"/login?sc={sc}")
            name = served_by(r)
            check(hdrs(r, "set-cookie") == [f"JSESSIONID={name}~abc123; Path=/"], f"prefix: {r[1]}")
            for _ in range(5):
                r = get(port, "/", {"Cookie": f"x=1; JSESSIONID={name}~abc123"})
                check(served_by(r) == name, f"prefix: went to {served_by(r)}")
                check(hdrs(r, "x-seen-cookie") == ["x=1; JSESSIONID=abc123"], f"prefix: {r[1]}")
            # An application cookie without a prefix is not ours: untouched.
            r = get(port, "/", {"Cookie": "JSESSIONID=zzz"})
            check(hdrs(r, "x-seen-cookie") == ["JSESSIONID=zzz"], f"prefix, no server part: {r[1]}")
            lines = log_lines(p, 7)
            check(tsc(lines[0]) == "--NR" and tsc(lines[1]) == "--VN" and tsc(lines[6]) == "--IN",
                  f"prefix log: {lines[0]} / {lines[1]} / {lines[6]}")


def test_show_stat_reports_cookies_and_algorithm():
    import socket
    import tempfile
    with Servers("s1", "s2") as srv, tempfile.TemporaryDirectory() as tmp:
        sock = os.path.join(tmp, "admin.sock")
        port = free_port()
        cfg = config(port, srv, "balance url_param u", "cookie SRV insert indirect",
                     server_opts=lambda s: "cookie c1" if s.name == "s1" else "")
        cfg = cfg.replace("global\n", f"global\n    stats socket {sock} level admin\n", 1)
        with Proxy(cfg):
            wait_until(lambda: os.path.exists(sock), 3.0)
            c = socket.socket(socket.AF_UNIX)
            c.settimeout(3)
            c.connect(sock)
            c.sendall(b"show stat\n")
            data = b""
            while True:
                d = c.recv(65536)
                if not d:
                    break
                data += d
            c.close()
            lines = data.decode().splitlines()
            head = lines[0].lstrip("# ").split(",")
            rows = {tuple(f[:2]): f for f in (ln.split(",") for ln in lines[1:] if ln)}
            col = head.index("cookie")
            check(rows[("be", "s1")][col] == "c1", f"s1: {rows[('be', 's1')][col]!r}")
            check(rows[("be", "s2")][col] == "", f"s2: {rows[('be', 's2')][col]!r}")
            check(rows[("be", "BACKEND")][col] == "SRV", f"backend: {rows[('be', 'BACKEND')][col]!r}")
            check(rows[("be", "BACKEND")][head.index("algo")] == "url_param", "algo column")


if __name__ == "__main__":
    run_tests(globals())
