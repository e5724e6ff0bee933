#!/usr/bin/env python3
"""The admin socket (`stats socket`): HAProxy 2.6's CLI protocol and the
output of the commands proxyd implements (see docs/runtime-api.md).

Written against HAProxy 2.6 first (PROXYD=/usr/sbin/haproxy): every check
that is not marked proxyd-only must pass there; the same tests run against
proxyd, whose daemon serves the sockets."""

import contextlib
import os
import socket
import stat
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (TCP_DEFAULTS, Backend, Conn, Proxy, check, counts, free_port,  # noqa: E402
                     is_haproxy, rss_kib, run_tests, skip_if_haproxy, wait_until)
from harness import admin_command  # noqa: E402
from harness import ask as ask_tcp  # noqa: E402

# HAProxy 2.6's `show stat` header line (proxyd's runtime.cc holds the same).
STAT_HEADER = (
    "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,"
    "wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,"
    "throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,"
    "check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,"
    "req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,"
    "lastsess,last_chk,last_agt,qtime,ctime,rtime,ttime,agent_status,agent_code,"
    "agent_duration,check_desc,agent_desc,check_rise,check_fall,check_health,agent_rise,"
    "agent_fall,agent_health,addr,cookie,mode,algo,conn_rate,conn_rate_max,conn_tot,"
    "intercepted,dcon,dses,wrew,connect,reuse,cache_lookups,cache_hits,srv_icur,src_ilim,"
    "qtime_max,ctime_max,rtime_max,ttime_max,eint,idle_conn_cur,safe_conn_cur,used_conn_cur,"
    "need_conn_est,uweight,agg_server_status,agg_server_check_status,agg_check_status,-,"
    "ssl_sess,ssl_reused_sess,ssl_failed_handshake,h2_headers_rcvd,h2_data_rcvd,"
    "h2_settings_rcvd,h2_rst_stream_rcvd,h2_goaway_rcvd,h2_detected_conn_protocol_errors,"
    "h2_detected_strm_protocol_errors,h2_rst_stream_resp,h2_goaway_resp,h2_open_connections,"
    "h2_backend_open_streams,h2_total_connections,h2_backend_total_streams,"
    "h1_open_connections,h1_open_streams,h1_total_connections,h1_total_streams,h1_bytes_in,"
    "h1_bytes_out,h1_spliced_bytes_in,h1_spliced_bytes_out,\n")

SERVERS_STATE_HEADER = (
    "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight "
    "srv_iweight srv_time_since_last_change srv_check_status srv_check_result "
    "srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id "
    "srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr "
    "srv_agent_port\n")


@contextlib.contextmanager
def admin_proxy():
    """A proxy with three stats sockets (admin, operator, user) in a temp dir;
    yields (proxy, {level: path}, backends). Skips when the binary does not
    serve them yet (proxyd before the daemon wires the socket)."""
    d = tempfile.mkdtemp(prefix="proxyd-adm-")
    socks = {lvl: os.path.join(d, f"{lvl}.sock") for lvl in ("admin", "operator", "user")}
    port = free_port()
    with Backend("web1") as w1, Backend("web2") as w2:
        cfg = ("global\n    maxconn 1000\n"
               + "".join(f"    stats socket {p} level {lvl}\n" for lvl, p in socks.items())
               + TCP_DEFAULTS
               + f"frontend fe\n    bind 127.0.0.1:{port}\n    default_backend app\n"
               + "backend app\n    balance roundrobin\n"
               + f"    server web1 127.0.0.1:{w1.port} check inter 100ms\n"
               + f"    server web2 127.0.0.1:{w2.port} weight 3 maxconn 10\n"
               + f"    server web3 127.0.0.1:{free_port()} backup disabled\n")
        p = Proxy(cfg, wait_ports=[port]).start()
        p.fe_port = port
        try:
            check(wait_until(lambda: all(os.path.exists(s) for s in socks.values()), 3.0),
                  "the stats sockets did not appear")
            # Let web1's first checks pass.
            time.sleep(0.4)
            yield p, socks, (w1, w2)
        finally:
            p.stop()
            for s in socks.values():
                with contextlib.suppress(OSError):
                    os.unlink(s)
            with contextlib.suppress(OSError):
                os.rmdir(d)


class Cli:
    """One connection to a stats socket."""

    def __init__(self, path: str, timeout: float = 2.0):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.connect(path)
        self.buf = b""
        self.eof = False

    def send(self, data: str) -> None:
        self.s.sendall(data.encode())

    def read_until(self, suffix: str, timeout: float = 2.0) -> str:
        """Bytes up to and including the first `suffix` (or what came before
        EOF/timeout)."""
        want = suffix.encode()
        deadline = time.monotonic() + timeout
        for _ in range(100000):
            i = self.buf.find(want)
            if i >= 0:
                out, self.buf = self.buf[:i + len(want)], self.buf[i + len(want):]
                return out.decode()
            left = deadline - time.monotonic()
            if left <= 0 or self.eof:
                break
            self.s.settimeout(left)
            try:
                d = self.s.recv(65536)
            except socket.timeout:
                break
            if not d:
                self.eof = True
            self.buf += d
        out, self.buf = self.buf, b""
        return out.decode()

    def read_all(self, timeout: float = 2.0) -> str:
        """Everything until the server closes; raises if it does not."""
        deadline = time.monotonic() + timeout
        for _ in range(100000):
            if self.eof:
                break
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"connection still open after {timeout}s: {self.buf!r}")
            self.s.settimeout(left)
            try:
                d = self.s.recv(65536)
            except socket.timeout:
                continue
            if not d:
                self.eof = True
            self.buf += d
        out, self.buf = self.buf, b""
        return out.decode()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.s.close()


def ask(path: str, line: str) -> str:
    """One-shot: send `line` and read until the server closes."""
    c = Cli(path)
    try:
        c.send(line)
        return c.read_all()
    finally:
        c.close()


def test_show_stat_header_and_rows():
    with admin_proxy() as (_, socks, _b):
        out = ask(socks["user"], "show stat\n")
        check(out.startswith(STAT_HEADER), f"header differs:\n{out[:1400]!r}")
        check(out.endswith("\n\n"), "output must end with an empty line")
        rows = [r.split(",") for r in out[len(STAT_HEADER):].splitlines() if r]
        check([r[:2] for r in rows] == [["fe", "FRONTEND"], ["app", "web1"], ["app", "web2"],
                                        ["app", "web3"], ["app", "BACKEND"]], f"rows: {rows}")
        check(all(len(r) == 129 for r in rows), "each row has 128 fields and a trailing comma")
        status = {r[1]: r[17] for r in rows}
        check(status == {"FRONTEND": "OPEN", "web1": "UP", "web2": "no check", "web3": "MAINT",
                         "BACKEND": "UP"}, f"status column: {status}")
        web1 = rows[1]
        check(web1[36] == "L4OK" and web1[65] == "Layer4 check passed", f"web1 check: {web1[36:70]}")
        be = rows[4]
        check((be[18], be[19], be[20]) == ("4", "2", "0"), f"backend weight/act/bck: {be[18:21]}")


def test_show_servers_state_format():
    with admin_proxy() as (_, socks, (w1, w2)):
        out = ask(socks["user"], "show servers state app\n")
        check(out.startswith(SERVERS_STATE_HEADER), f"header: {out[:400]!r}")
        lines = out[len(SERVERS_STATE_HEADER):].splitlines()
        check(lines[-1] == "" and len(lines) == 4, f"lines: {lines}")
        f = [ln.split(" ") for ln in lines[:3]]
        check(all(len(x) == 25 for x in f), "25 columns")
        check(f[0][3:5] == ["web1", "127.0.0.1"] and f[0][18] == str(w1.port), f"web1: {f[0]}")
        check(f[1][5:9] == ["2", "0", "3", "3"], f"web2 running, ready, weights 3/3: {f[1]}")
        check(f[2][5:7] == ["0", "5"], f"web3 stopped, config maintenance: {f[2]}")
        check(ask(socks["user"], "show servers state nope\n") == "Can't find backend.\n\n", "bad backend")


def test_show_backend_and_info():
    with admin_proxy() as (_, socks, _b):
        check(ask(socks["user"], "show backend\n") == "# name\napp\n\n", "show backend")
        info = ask(socks["user"], "show info\n")
        keys = [ln.split(":", 1)[0] for ln in info.splitlines() if ln]
        check(keys[:8] == ["Name", "Version", "Release_date", "Nbthread", "Nbproc", "Process_num",
                           "Pid", "Uptime"], f"first keys: {keys[:8]}")
        for k in ("Maxconn", "Hard_maxconn", "CurrConns", "CumConns", "Tainted"):
            check(k in keys, f"{k} missing from show info")
        check(info.endswith("\n\n"), "show info ends with an empty line")
        js = ask(socks["user"], "show info json\n")
        check(js.startswith('[{"field":{"pos":0,"name":"Name"},"processNum":1,"tags":{"origin":'
                            '"Product","nature":"Output","scope":"Service"},"value":{"type":"str",'
                            '"value":'), f"json: {js[:200]!r}")
        check(js.endswith("}}]\n\n"), f"json end: {js[-40:]!r}")


def test_weights_and_errors():
    with admin_proxy() as (_, socks, _b):
        adm = socks["admin"]
        check(ask(adm, "get weight app/web2\n") == "3 (initial 3)\n\n", "get weight")
        check(ask(adm, "set server app/web2 weight 50%\n") == "\n", "set weight 50%")
        check(ask(adm, "get weight app/web2\n") == "1 (initial 3)\n\n", "3 * 50% rounds down")
        expect = {
            "get weight app": "Require 'backend/server'.\n\n",
            "get weight nope/web2": "No such backend.\n\n",
            "get weight app/nope": "No such server.\n\n",
            "set server app/web2 weight 300": "Absolute weight can only be between 0 and 256 inclusive.\n\n",
            "set server app/web2 weight abc": "Empty weight string empty or preceded by garbage\n",
            "set server app/web2 weight 5x": "Trailing garbage in weight string\n",
            "set server app/web2 weight -1%": "Relative weight must be positive.\n\n",
            "set server app/web2 weight": "Require <weight> or <weight%>.\n\n",
            "set server app/web2 state bogus": "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n\n",
            "set maxconn server app/web2": "Require <maxconn>.\n\n",
            "set maxconn frontend nope 5": "No such frontend.\n\n",
            "set maxconn frontend fe": "Integer value expected.\n\n",
            "set maxconn global 5000": "Value out of range.\n\n",
            "shutdown sessions server app": "Require 'backend/server'.\n\n",
        }
        for cmd, want in expect.items():
            got = ask(adm, cmd + "\n")
            check(got == want, f"{cmd!r}: {got!r} != {want!r}")
        check(ask(adm, "set server app/web2 weight 3\n") == "\n", "weight back")


def test_state_changes_show_in_stats():
    with admin_proxy() as (_, socks, _b):
        adm = socks["admin"]

        def status(name):
            for r in ask(adm, "show stat\n").splitlines():
                f = r.split(",")
                if len(f) > 17 and f[:2] == ["app", name]:
                    return f[17]
            return None
        check(ask(adm, "set server app/web2 state drain\n") == "\n", "drain")
        check(status("web2") == "DRAIN", f"web2 after drain: {status('web2')}")
        check(ask(adm, "disable server app/web2\n") == "\n", "disable")
        check(status("web2") == "MAINT", f"web2 after disable: {status('web2')}")
        check(ask(adm, "enable server app/web2\n") == "\n", "enable")
        check(status("web2") == "no check", f"web2 after enable: {status('web2')}")
        check(ask(adm, "set server app/web3 state ready\n") == "\n", "web3 ready")
        check(status("web3") == "no check", f"web3 after ready: {status('web3')}")


def test_levels():
    with admin_proxy() as (_, socks, _b):
        for cmd in ("set server app/web2 state ready", "set weight app/web2 3",
                    "set maxconn global 900", "shutdown sessions server app/web2",
                    "clear counters all", "disable server app/web2"):
            for lvl in ("user", "operator"):
                got = ask(socks[lvl], cmd + "\n")
                check(got == "Permission denied\n\n", f"{lvl} {cmd!r}: {got!r}")
        check(ask(socks["user"], "clear counters\n") == "Permission denied\n\n", "user clear")
        check(ask(socks["operator"], "clear counters\n") == "\n", "operator clear")
        check(ask(socks["operator"], "show cli level\n") == "operator\n\n", "operator level")
        check(ask(socks["user"], "operator\n") == "Permission denied\n\n", "cannot raise")
        check(ask(socks["admin"], "operator;show cli level\n") == "\noperator\n\n", "can lower")


def test_protocol_one_shot_pipelined_prompt_quit():
    with admin_proxy() as (_, socks, _b):
        adm = socks["admin"]
        check(ask(adm, "show backend;get weight app/web2\n") == "# name\napp\n\n3 (initial 3)\n\n", "';'")
        check(ask(adm, "get weight app/web2\nshow backend\n") == "3 (initial 3)\n\n# name\napp\n\n",
              "pipelined lines")
        empty = ask(adm, "\n")
        check(empty.startswith("Unknown command. Please enter one of the following commands only:\n")
              and empty.endswith("  quit                                    : disconnect\n\n"),
              f"an empty line lists the commands: {empty[:100]!r}")
        c = Cli(adm)
        try:
            c.send("prompt\n")
            check(c.read_until("> ") == "\n> ", "prompt")
            c.send("show backend;get weight app/web2\n")
            out = c.read_until("> ") + c.read_until("> ")
            check(out == "# name\napp\n\n> 3 (initial 3)\n\n> ", f"interactive: {out!r}")
            c.send("get weight app\\;x/web2\n")
            check(c.read_until("> ") == "No such backend.\n\n> ", "escaped ';'")
            c.send("quit\n")
            check(c.read_all() == "", "quit closes")
        finally:
            c.close()
        # A line cut by EOF is dropped.
        c = Cli(adm)
        try:
            c.send("show backend")
            c.s.shutdown(socket.SHUT_WR)
            check(c.read_all() == "", "incomplete line")
        finally:
            c.close()


def test_unknown_commands_suggest():
    with admin_proxy() as (_, socks, _b):
        out = ask(socks["admin"], "set maxconn bogus 4\n")
        check(out.startswith("Unknown command, but maybe one of the following ones is a better match:\n"
                             "  set maxconn frontend <frontend> <value> : change a frontend's maxconn setting\n"
                             "  set maxconn global <value>              : change the per-process maxconn setting\n"
                             "  set maxconn server <bk>/<srv>           : change a server's maxconn setting\n"),
              f"suggestions: {out!r}")
        check(out.endswith("  quit                                    : disconnect\n\n"), "trailer")


def names_seen(port: int, n: int) -> dict:
    return counts([ask_tcp(port) for _ in range(n)])


def test_disable_enable_drain_and_weight_move_traffic():
    with admin_proxy() as (p, socks, _b):
        adm, port = socks["admin"], p.fe_port
        seen = names_seen(port, 8)
        check(seen == {"web1": 2, "web2": 6}, f"weights 1 and 3 in roundrobin: {seen}")
        check(ask(adm, "disable server app/web2\n") == "\n", "disable")
        seen = names_seen(port, 6)
        check(seen == {"web1": 6}, f"disabled web2 gets no connection: {seen}")
        check(ask(adm, "enable server app/web2\n") == "\n", "enable")
        seen = names_seen(port, 8)
        check(seen.get("web2", 0) >= 4 and None not in seen, f"enabled web2 serves again: {seen}")
        check(ask(adm, "set server app/web1 state drain\n") == "\n", "drain")
        seen = names_seen(port, 6)
        check(seen == {"web2": 6}, f"draining web1 gets no new connection: {seen}")
        check(ask(adm, "set server app/web1 state ready\n") == "\n", "ready")
        check(ask(adm, "set weight app/web2 0\n") == "\n", "weight 0")
        seen = names_seen(port, 6)
        check(seen == {"web1": 6}, f"weight 0 gets no connection: {seen}")
        check(ask(adm, "set weight app/web2 1\n") == "\n", "weight 1")
        seen = names_seen(port, 8)
        check(seen == {"web1": 4, "web2": 4}, f"weights 1 and 1: {seen}")


def test_shutdown_sessions_server_closes_only_that_servers_streams():
    with admin_proxy() as (p, socks, _b):
        adm, port = socks["admin"], p.fe_port
        held = []
        try:
            for _ in range(4):  # roundrobin, weights 1 and 3: web1 once, web2 thrice
                c = Conn(port)
                held.append((c, c.line(2.0)))
            names = sorted(n for _, n in held)
            check(names == ["web1", "web2", "web2", "web2"], f"held connections: {names}")
            check(ask(socks["operator"], "shutdown sessions server app/web2\n").startswith("Permission denied"),
                  "operator level may not kill sessions")
            check(ask(adm, "shutdown sessions server app/nosuch\n") == "No such server.\n\n",
                  "unknown server")
            check(ask(adm, "shutdown sessions server app/web2\n") == "\n", "shutdown sessions answered")
            for c, n in held:
                if n == "web2":
                    check(c.wait_closed(2.0) is not None, "a web2 stream was closed")
            for c, n in held:
                if n == "web1":
                    check(c.wait_closed(0.3) is None, "the web1 stream stays open")
                    c.send(b"still\n")
                    check(c.line(2.0) == "still", "the web1 stream still forwards")
            check(ask_tcp(port) in ("web1", "web2"), "new connections are served")
        finally:
            for c, _ in held:
                c.close()


def test_set_timeout_cli_closes_an_idle_session_sooner():
    with admin_proxy() as (p, socks, _b):
        c = Cli(socks["user"])
        try:
            c.send("prompt\n")
            c.read_until("> ")
            c.send("set timeout cli 1\n")
            check(c.read_until("> ") == "\n> ", "set timeout cli answered")
            t0 = time.monotonic()
            closed = False
            c.s.settimeout(3.0)
            try:
                closed = c.s.recv(100) == b""
            except (socket.timeout, OSError):
                closed = False
            took = time.monotonic() - t0
            check(closed and took < 2.0, f"idle session closed after {took:.1f} s (timeout cli 1 s)")
        finally:
            c.close()


def test_set_maxconn_applies():
    with admin_proxy() as (p, socks, _b):
        adm, port = socks["admin"], p.fe_port

        def row(name):
            for r in ask(adm, "show stat\n").splitlines():
                f = r.split(",")
                if len(f) > 17 and f[:2] == ["fe" if name == "FRONTEND" else "app", name]:
                    return f
            return None
        check(ask(adm, "set maxconn server app/web2 5\n") == "\n", "server maxconn")
        check(row("web2")[6] == "5", f"web2 slim: {row('web2')[6]}")
        check(ask(adm, "set maxconn global 500\n") == "\n", "global maxconn")
        check("\nMaxconn: 500\n" in ask(adm, "show info\n"), "show info Maxconn")
        check(ask(adm, "set maxconn frontend fe 1\n") == "\n", "frontend maxconn")
        check(row("FRONTEND")[6] == "1", f"fe slim: {row('FRONTEND')[6]}")
        with Conn(port) as held:
            check(held.line(2.0) in ("web1", "web2"), "first connection served")
            check(ask_tcp(port, timeout=0.6) is None, "a second connection waits at maxconn 1")
        check(wait_until(lambda: ask_tcp(port, timeout=0.6) in ("web1", "web2"), 3.0),
              "served again once the first closed")
        # (No `set maxconn frontend` after this: haproxy 2.6.12 leaves that
        # CLI request unanswered once the frontend has been at its limit.)


def test_unbindable_socket_is_a_startup_error():
    port = free_port()
    cfg = ("global\n    stats socket /nonexistent-proxyd-dir/admin.sock level admin\n" + TCP_DEFAULTS
           + f"frontend fe\n    bind 127.0.0.1:{port}\n    default_backend app\n"
           + f"backend app\n    server s1 127.0.0.1:{free_port()}\n")
    try:
        Proxy(cfg, wait_ports=[port]).start().stop()
        raise AssertionError("started with an unbindable stats socket")
    except RuntimeError as e:
        text = str(e)
        check("exited with" in text, text[:400])
        check("GLOBAL" in text and "/nonexistent-proxyd-dir/admin.sock" in text
              and "No such file or directory" in text, f"message: {text[:400]}")


def test_proxyd_watch_health_heartbeat_and_changes():
    skip_if_haproxy("watch health is proxyd's own command")
    with admin_proxy() as (_, socks, (w1, _w2)):
        c = Cli(socks["user"])
        try:
            t0 = time.monotonic()
            c.send("watch health backend app heartbeat 200\n")
            first = c.read_until("\n", timeout=1.0)
            check(time.monotonic() - t0 < 0.3, "the first line comes at once")
            check(first == "health ok backend=app active=2/2 backup=0/1 event=initial\n", first)
            stamps = []
            for _ in range(4):
                hb = c.read_until("\n", timeout=1.0)
                check(hb == "health ok backend=app active=2/2 backup=0/1 event=heartbeat\n", f"hb: {hb!r}")
                stamps.append(time.monotonic())
            gaps = [b - a for a, b in zip(stamps, stamps[1:])]
            check(all(0.12 < g < 0.4 for g in gaps), f"heartbeats every ~200 ms: {gaps}")
            # An administrative change is streamed at once.
            t1 = time.monotonic()
            check(ask(socks["admin"], "disable server app/web2\n") == "\n", "disable")
            line = c.read_until("\n", timeout=1.0)
            check(line == "health ok backend=app active=1/2 backup=0/1 event=change\n", f"admin change: {line!r}")
            check(time.monotonic() - t1 < 0.3, "admin change streamed at once")
            # A check transition: web1 (inter 100ms, fall 3) dies.
            t2 = time.monotonic()
            w1.stop()
            line = ""
            for _ in range(30):
                line = c.read_until("\n", timeout=1.0)
                if "event=change" in line:
                    break
            check(line == "health fail backend=app active=0/2 backup=0/1 event=change\n", f"change: {line!r}")
            check(time.monotonic() - t2 < 1.0, f"change within ~inter*fall: {time.monotonic() - t2:.2f}s")
            hb = c.read_until("\n", timeout=1.0)
            check(hb == "health fail backend=app active=0/2 backup=0/1 event=heartbeat\n", f"hb after: {hb!r}")
        finally:
            c.close()


def test_proxyd_watch_health_and_vrrp():
    skip_if_haproxy("watch health and set vrrp are proxyd's own commands")
    with admin_proxy() as (_, socks, (w1, _w2)):
        check(ask(socks["operator"], "set vrrp VI_1 MASTER 102\n") == "\n", "set vrrp")
        check("\nVrrp_VI_1: MASTER 102\n" in ask(socks["user"], "show info\n"), "vrrp in show info")
        c = Cli(socks["user"])
        try:
            c.send("watch health backend app heartbeat 100\n")
            first = c.read_until("\n")
            check(first == "health ok backend=app active=2/2 backup=0/1 event=initial\n", first)
            hb = c.read_until("\n", timeout=1.0)
            check(hb.endswith("event=heartbeat\n"), f"heartbeat: {hb!r}")
            w1.stop()
            line = ""
            for _ in range(30):
                line = c.read_until("\n", timeout=1.0)
                if "event=change" in line:
                    break
            check(line == "health ok backend=app active=1/2 backup=0/1 event=change\n", f"change: {line!r}")
        finally:
            c.close()


def flood_without_reading(path: str, data: bytes, seconds: float) -> tuple[socket.socket, int]:
    """Sends `data` on a new connection without ever reading, for at most
    `seconds` (the server may stop reading: the rest is not sent). Returns
    the open socket and how many bytes went."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.setblocking(False)
    sent = 0
    deadline = time.monotonic() + seconds
    while sent < len(data) and time.monotonic() < deadline:
        try:
            sent += s.send(data[sent:sent + 65536])
        except BlockingIOError:
            time.sleep(0.01)
    return s, sent


def test_output_a_client_does_not_read_stays_bounded():
    # Security review (issue 10): `prompt` then 200k empty lines, never
    # reading, made proxyd queue ~2.5 KB of help text per line (RSS 5 ->
    # 1017 MiB). HAProxy stops running commands and reading while its output
    # is not taken (RSS stays flat); so must proxyd, in both modes.
    with admin_proxy() as (p, socks, _b):
        base = rss_kib(p.pid)
        floods = []
        try:
            for first in (b"prompt\n", b""):  # interactive, then one-shot
                s, sent = flood_without_reading(socks["user"], first + b"\n" * 200000, 3.0)
                floods.append(s)
                check(sent > 0, "the flood started")
                time.sleep(1.0)  # give the server time to (not) pile up output
                grown = (rss_kib(p.pid) or 0) - base
                check(grown < 20 * 1024, f"RSS grew by {grown} KiB with {first!r} flood of {sent} bytes")
                t0 = time.monotonic()
                check(ask(socks["user"], "show cli level\n") == "user\n\n", "another client is served")
                check(time.monotonic() - t0 < 1.0, f"served in {time.monotonic() - t0:.2f}s")
        finally:
            for s in floods:
                s.close()


def test_output_held_back_is_all_delivered_once_the_client_reads():
    # The other half of the cap: a client that reads late still gets every
    # answer, in order (the session resumes as the output drains).
    with admin_proxy() as (_, socks, _b):
        n = 300  # ~2.5 KB of help each: far over the pause threshold
        c = Cli(socks["user"], timeout=5.0)
        try:
            c.send("prompt\n" + "help\n" * n + "show cli level\nquit\n")
            time.sleep(0.5)
            out = c.read_all(timeout=10.0)
        finally:
            c.close()
        check(out.count("The following commands are valid at this level:\n") == n,
              f"{out.count('The following commands')} help answers of {n}")
        check(out.endswith("\n> user\n\n> "), f"the last answer comes last: {out[-40:]!r}")
        # One-shot, the client closing its side at once: every line still runs.
        c = Cli(socks["user"], timeout=5.0)
        try:
            c.send("help\n" * n + "show cli level\n")
            c.s.shutdown(socket.SHUT_WR)
            time.sleep(0.5)
            out = c.read_all(timeout=10.0)
        finally:
            c.close()
        check(out.count("The following commands are valid at this level:\n") == n,
              f"one-shot: {out.count('The following commands')} help answers of {n}")
        check(out.endswith("\nuser\n\n"), f"one-shot: the last answer comes last: {out[-40:]!r}")


def test_command_line_longer_than_haproxys_buffer_is_not_run():
    # HAProxy 2.6 takes a command line of up to 15360 bytes with its "\n"
    # (tune.bufsize 16384 less maxrewrite 1024); a longer one is not run.
    # (HAProxy then stops reading that session for good or resets it; proxyd
    # closes it, so a line without "\n" cannot grow without bound either.)
    with admin_proxy() as (_, socks, _b):
        prefix = "show cli level "
        ok_line = prefix + "a" * (15360 - len(prefix) - 1) + "\n"
        check(ask(socks["user"], ok_line) == "user\n\n", "a 15360-byte line runs")
        c = Cli(socks["user"])
        try:
            # (Between the two, whether HAProxy runs a line depends on how
            # its reads were cut; a line longer than its whole buffer never.)
            # HAProxy either stops reading the session or resets it.
            out = ""
            with contextlib.suppress(ConnectionResetError, BrokenPipeError):
                c.send(prefix + "a" * (16385 - len(prefix) - 1) + "\n")
                out = c.read_until("never", timeout=1.5)
            check(out == "", f"no answer to a 16385-byte line: {out!r}")
        finally:
            c.close()
        if is_haproxy():
            return  # haproxy may also hold the session open without reading it
        c = Cli(socks["user"])
        try:
            c.send("show cli level\n")
            check(c.read_until("\n\n") == "user\n\n", "first answer")
            s = c.s
            s.setblocking(False)
            sent, deadline = 0, time.monotonic() + 3.0
            while time.monotonic() < deadline:  # a line without "\n", forever
                try:
                    sent += s.send(b"a" * 65536)
                except BlockingIOError:
                    time.sleep(0.01)
                except OSError:
                    break  # closed by the server
            s.setblocking(True)
            out = "(reset)"  # closed with our bytes unread: a reset is fine too
            with contextlib.suppress(ConnectionResetError):
                out = c.read_all(timeout=2.0)
            check(out in ("", "(reset)"), f"closed without an answer: {out[:80]!r}")
            check(sent < 4 << 20, f"closed early, not after {sent} bytes")
        finally:
            c.close()


def stats_socket_proxy(path: str, extra: str = "") -> Proxy:
    port = free_port()
    cfg = ("global\n" + f"    stats socket {path} {extra}\n" + TCP_DEFAULTS
           + f"frontend fe\n    bind 127.0.0.1:{port}\n    default_backend app\n"
           + f"backend app\n    server s1 127.0.0.1:{free_port()}\n")
    return Proxy(cfg, wait_ports=[port])


def test_stats_socket_replaces_a_stale_one_with_its_mode_and_no_temporary_file():
    # The socket is bound under a temporary name, given its mode, then
    # renamed over the path (as HAProxy does), so no client ever meets it
    # with the umask's mode; nothing of the temporary name may remain.
    d = tempfile.mkdtemp(prefix="proxyd-adm-")
    path = os.path.join(d, "admin.sock")
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(path)  # a socket file left by a dead process
    stale.close()
    old_umask = os.umask(0)
    try:
        p = stats_socket_proxy(path, "mode 640 level admin").start()
    finally:
        os.umask(old_umask)
    try:
        check(admin_command(path, "show cli level") == "admin\n\n", "the new socket answers")
        st = os.lstat(path)
        check(stat.S_ISSOCK(st.st_mode), "a socket")
        check(stat.S_IMODE(st.st_mode) == 0o640, f"mode {oct(stat.S_IMODE(st.st_mode))}")
        check(st.st_uid == os.getuid() and st.st_gid == os.getgid(), "owned by the process's user")
        check(os.listdir(d) == ["admin.sock"], f"only the socket is left: {os.listdir(d)}")
    finally:
        p.stop()
        with contextlib.suppress(OSError):
            os.unlink(path)
        os.rmdir(d)


def test_a_stopping_proxy_leaves_the_socket_that_replaced_its_own():
    # A second proxy on the same socket path replaces the file; when the
    # first one then stops, the second's socket must stay in place.
    d = tempfile.mkdtemp(prefix="proxyd-adm-")
    path = os.path.join(d, "admin.sock")
    first = stats_socket_proxy(path, "level admin").start()
    second = None
    try:
        check(admin_command(path, "show cli level") == "admin\n\n", "the first answers")
        second = stats_socket_proxy(path, "level operator").start()
        check(wait_until(lambda: admin_command(path, "show cli level") == "operator\n\n", 3.0),
              "the second one's socket replaced the first's")
        first.stop()
        check(os.path.exists(path), "the second one's socket file is still there")
        check(admin_command(path, "show cli level") == "operator\n\n", "and answers")
    finally:
        first.stop()
        if second:
            second.stop()
        with contextlib.suppress(OSError):
            os.unlink(path)
        os.rmdir(d)


def test_proxyd_set_vrrp_names_and_instance_cap():
    skip_if_haproxy("set vrrp is proxyd's own command")
    with admin_proxy() as (_, socks, _b):
        op = socks["operator"]
        # An escaped ';' arrives whole (vrrpd escapes the names it sends).
        check(ask(op, "set vrrp VI\\;1 MASTER 100\n") == "\n", "escaped ';'")
        check("\nVrrp_VI;1: MASTER 100\n" in ask(op, "show info\n"), "the name as sent")
        # An escaped newline continues the command (as in HAProxy) and the
        # name with it is refused: one answer, not two commands.
        check(ask(op, "set vrrp VI\\\n2 MASTER 100\n")
              == "Instance name must not contain control characters.\n\n", "escaped newline")
        long_name = "v" * 129
        check(ask(op, f"set vrrp {long_name} MASTER 100\n")
              == "Instance name too long (at most 128 bytes).\n\n", "long name")
        lines = "".join(f"set vrrp VI_{i} BACKUP 100\n" for i in range(255))  # + VI;1 = 256
        check(ask(op, lines) == "\n" * 255, "up to 256 instances")
        check(ask(op, "set vrrp one_more BACKUP 100\n")
              == "Too many VRRP instances (at most 256).\n\n", "the 257th is refused")
        check(ask(op, "set vrrp VI_7 MASTER 101\n") == "\n", "a known instance is still updated")
        info = ask(op, "show info\n")
        check("\nVrrp_VI_7: MASTER 101\n" in info and "one_more" not in info
              and long_name not in info and "VI\n2" not in info, "show info")


if __name__ == "__main__":
    run_tests(globals())
