#!/usr/bin/env python3
"""The seed's two-host lab (section 2 of the guide) in network namespaces.

    lab.py up [--build DIR]     build the lab and start everything
    lab.py status               one snapshot
    lab.py view                 live view, refreshed every 200 ms (Ctrl-C ends it)
    lab.py down                 stop everything (by pid) and remove the namespaces
    lab.py kill-proxy HOST      SIGKILL proxyd on HOST (lb1 or lb2)
    lab.py hang-proxy HOST      SIGSTOP proxyd on HOST
    lab.py cut HOST             take HOST off the LAN (its link stays up)
    lab.py stop-vrrpd HOST      stop vrrpd on HOST cleanly (SIGTERM: it sends priority 0)
    lab.py restore HOST         undo the faults on HOST (reconnect, SIGCONT or restart
                                proxyd, restart vrrpd)

Hosts: lb1 198.18.0.11 and lb2 198.18.0.12, each with a web backend on :8080
answering its host name, proxyd on :80 (conf/lab/haproxy.cfg: the seed's
haproxy.cfg) and vrrpd (conf/lab/keepalived-lbN.conf: the seed's
keepalived.conf, VI_1, vrid 51, VIP 198.18.0.222, auth PASS), plus a client
that requests the VIP every 20 ms with a 200 ms timeout (client.log: one
line per request, "START OK BODY END", wall-clock seconds). Runtime files
live in /run/proxyd-lab, where `up` copies conf/lab/* (conf/). Root only.

A second lab can run beside this one (the tests do so): LAB_RUN=/run/DIR and
LAB_TAG=TAG (a few letters, part of the namespace names) select another run
directory and other namespaces; the copied configs then name that directory.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import netlab  # noqa: E402

SEED_RUN = "/run/proxyd-lab"  # the directory conf/lab/* name
RUN = os.environ.get("LAB_RUN") or SEED_RUN
STATE = os.path.join(RUN, "state.json")
VIP = "198.18.0.222"
HOSTS = {"lb1": "198.18.0.11", "lb2": "198.18.0.12"}
CLIENT = ("client", "198.18.0.100")
TAG = os.environ.get("LAB_TAG") or "lab"
CONFS = ["haproxy.cfg"] + [f"keepalived-{h}.conf" for h in HOSTS]

NOTIFY = f"""#!/bin/sh
# notify HOST INSTANCE|GROUP NAME STATE PRIORITY (keepalived's arguments)
echo "$(date +%H:%M:%S.%N | cut -c1-12) $*" >> {RUN}/transitions.log
"""

# The client: a request to the VIP starts every 20 ms whatever the earlier
# ones are doing (several may be in flight), each with 200 ms for the whole
# exchange (connect, send, the answer), so an outage is seen with a 20 ms
# resolution and not in steps of the timeout. A line per request, written
# when it ends (so lines are not in start order): start time, 1/0 (a 200
# answer or not), body (or why it failed: timeout, ConnectionRefusedError,
# status_503...), end time. Bounded: it stops by itself after MAX_SECONDS.
PROBE = r"""
import errno, selectors, socket, sys, time
MAX_SECONDS = 4 * 3600
EVERY, TIMEOUT = 0.02, 0.2
REQ = b"GET / HTTP/1.1\r\nHost: vip\r\nConnection: close\r\n\r\n"
out = open(sys.argv[1], "a", buffering=1)
sel = selectors.DefaultSelector()
t_end = time.monotonic() + MAX_SECONDS
next_start = time.monotonic()

def finish(p, ok, body):
    try:
        sel.unregister(p["s"])
    except (KeyError, ValueError):
        pass
    p["s"].close()
    out.write(f"{p['wall']:.4f} {1 if ok else 0} {body} {time.time():.4f}\n")

def done_reading(p):
    head, _, rest = p["data"].partition(b"\r\n\r\n")
    status = head.split(b"\r\n")[0].split(b" ")
    if status[0].startswith(b"HTTP/1.") and status[1:2] == [b"200"]:
        finish(p, True, rest.decode(errors="replace").strip().replace(" ", "_") or "-")
    else:
        finish(p, False, "status_" + (b"_".join(status[1:2]).decode(errors="replace") or "none"))

live = []
while time.monotonic() < t_end:
    now = time.monotonic()
    if now >= next_start:
        next_start += EVERY
        if next_start < now:  # never burst after a stall
            next_start = now + EVERY
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        p = {"s": s, "t0": now, "wall": time.time(), "data": b"", "sent": False}
        err = s.connect_ex(("198.18.0.222", 80))
        if err not in (0, errno.EINPROGRESS):
            finish(p, False, errno.errorcode.get(err, str(err)))
        else:
            sel.register(s, selectors.EVENT_WRITE, p)
            live.append(p)
    wait = max(0.0, min(next_start - time.monotonic(),
                        min((q["t0"] + TIMEOUT for q in live), default=next_start) - time.monotonic()))
    for key, ev in sel.select(wait):
        p = key.data
        s = p["s"]
        try:
            if not p["sent"]:
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    raise OSError(err, "connect")
                s.sendall(REQ)
                p["sent"] = True
                sel.modify(s, selectors.EVENT_READ, p)
                continue
            chunk = s.recv(4096)
            if chunk:
                p["data"] += chunk
                if len(p["data"]) < 4096:
                    continue
            done_reading(p)
            live.remove(p)
        except OSError as e:
            name = "ConnectionRefusedError" if e.errno == errno.ECONNREFUSED else (
                type(e).__name__ if type(e) is not OSError else errno.errorcode.get(e.errno, "OSError"))
            finish(p, False, name)
            live.remove(p)
    now = time.monotonic()
    for p in [q for q in live if now - q["t0"] >= TIMEOUT]:
        finish(p, False, "timeout")
        live.remove(p)
"""


def load() -> dict:
    with open(STATE) as f:
        return json.load(f)


def save(st: dict) -> None:
    with open(STATE, "w") as f:
        json.dump(st, f, indent=1)


def ns(host: str) -> str:
    return f"{host}-{TAG}"


# The lab's processes (web servers, proxyd, vrrpd, the client) run at a
# higher priority than ordinary jobs: its timings (20 ms requests, 200 ms
# timeouts, VRRP timers) should not stretch when builds share the machine.
NICE = ["nice", "-n", "-10"]


def spawn(host: str, cmd: list[str], log: str) -> int:
    out = open(log, "ab")
    # ip netns exec, nice and the commands exec in turn: the pid is the daemon's.
    p = subprocess.Popen(["ip", "netns", "exec", ns(host)] + NICE + cmd, stdout=out,
                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    return p.pid


def conf_path(name: str) -> str:
    return os.path.join(RUN, "conf", name)


def copy_confs() -> None:
    """conf/lab/* into RUN/conf, naming RUN instead of the seed's directory."""
    os.makedirs(os.path.join(RUN, "conf"), exist_ok=True)
    for name in CONFS:
        with open(os.path.join(SRC, "conf", "lab", name)) as f:
            text = f.read()
        with open(conf_path(name), "w") as f:
            f.write(text.replace(SEED_RUN + "/", RUN + "/"))


def start_proxyd(st: dict, host: str) -> None:
    d = os.path.join(RUN, host)
    st["pids"][f"{host}.proxyd"] = spawn(host, ["env", f"LAB_HOST={host}", st["proxyd"], "-db", "-f",
                                                 conf_path("haproxy.cfg"),
                                                 "-p", os.path.join(d, "proxyd.pid")],
                                         os.path.join(d, "proxyd.log"))


def start_vrrpd(st: dict, host: str) -> None:
    # vrrpd gets a private /tmp so its SIGUSR1 dump (/tmp/keepalived.data)
    # is its own; the lab reads it through /proc/PID/root.
    st["pids"][f"{host}.vrrpd"] = spawn(
        host, ["unshare", "-m", "--propagation", "private", "sh", "-c",
               f"mount -t tmpfs lab /tmp && exec {st['vrrpd']} -n -l -f {conf_path(f'keepalived-{host}.conf')}"],
        os.path.join(RUN, host, "vrrpd.log"))


def alive(pid: int) -> bool:
    """Running or stopped, not dead (a zombie counts as dead)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def up(build: str, proxyd: str | None = None, vrrpd: str | None = None) -> None:
    """Builds the lab with BUILD/proxyd/proxyd and BUILD/vrrpd/vrrpd (or the
    binaries given)."""
    if os.path.exists(STATE):
        sys.exit("lab: already up (lab.py down first)")
    proxyd = proxyd or os.path.join(build, "proxyd", "proxyd")
    vrrpd = vrrpd or os.path.join(build, "vrrpd", "vrrpd")
    for b in (proxyd, vrrpd):
        if not os.access(b, os.X_OK):
            sys.exit(f"lab: {b} not built")
    os.makedirs(os.path.join(RUN, "bin"), exist_ok=True)
    # Run copies: the build may change (or sit under /tmp, which vrrpd's
    # private /tmp hides) while the lab runs.
    for b in (proxyd, vrrpd):
        shutil.copy2(b, os.path.join(RUN, "bin"))
    proxyd = os.path.join(RUN, "bin", "proxyd")
    vrrpd = os.path.join(RUN, "bin", "vrrpd")
    with open(os.path.join(RUN, "notify.sh"), "w") as f:
        f.write(NOTIFY)
    os.chmod(os.path.join(RUN, "notify.sh"), 0o755)
    for log in ("transitions.log", "client.log"):
        open(os.path.join(RUN, log), "w").close()
    copy_confs()
    lab = netlab.Lab(tag=TAG)
    st = {"proxyd": proxyd, "vrrpd": vrrpd, "namespaces": [lab.switch], "pids": {}, "ports": {}}
    save(st)
    for host, addr in list(HOSTS.items()) + [CLIENT]:
        lab.add_host(host, addr)
        st["namespaces"].append(lab.ns(host))
        st["ports"][host] = lab.hosts[host]["port"]
    # Let proxyd bind the VIP before holding it (the sysctl of deploy/).
    for host in HOSTS:
        lab.run(host, ["sysctl", "-qw", "net.ipv4.ip_nonlocal_bind=1"])
    for host, addr in HOSTS.items():
        d = os.path.join(RUN, host)
        os.makedirs(os.path.join(d, "www"), exist_ok=True)
        with open(os.path.join(d, "www", "index.html"), "w") as f:
            f.write(f"{host}\n")
        st["pids"][f"{host}.web"] = spawn(host, ["python3", "-m", "http.server", "8080", "--bind", addr,
                                                 "--directory", os.path.join(d, "www")],
                                          os.path.join(d, "web.log"))
        start_proxyd(st, host)
        start_vrrpd(st, host)
    st["pids"]["client"] = spawn("client", ["python3", "-c", PROBE, os.path.join(RUN, "client.log")],
                                 os.path.join(RUN, "client.err"))
    save(st)
    print("lab: up. Try: python3 deploy/lab/lab.py view")


def down() -> None:
    if not os.path.exists(STATE):
        print("lab: not up")
        return
    st = load()
    for name, pid in st["pids"].items():
        for sig in (signal.SIGCONT, signal.SIGTERM):
            try:
                os.killpg(pid, sig)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + 5
    for pid in st["pids"].values():
        while time.monotonic() < deadline and os.path.exists(f"/proc/{pid}"):
            try:
                if os.waitpid(pid, os.WNOHANG)[0] == pid:
                    break
            except ChildProcessError:
                # not our child: poll /proc (zombies are reaped by init)
                with open(f"/proc/{pid}/stat") as f:
                    if f.read().split()[2] == "Z":
                        break
            time.sleep(0.05)
        if os.path.exists(f"/proc/{pid}"):
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    for n in reversed(st["namespaces"]):
        subprocess.run(["ip", "netns", "del", n], capture_output=True)
    os.unlink(STATE)
    print("lab: down")


def host_pid(st: dict, host: str, what: str) -> int:
    if host not in HOSTS:
        sys.exit(f"lab: unknown host {host} (lb1 or lb2)")
    return st["pids"][f"{host}.{what}"]


def fault(cmd: str, host: str) -> None:
    st = load()
    sw = f"sw{TAG}"
    if cmd == "kill-proxy":
        os.kill(host_pid(st, host, "proxyd"), signal.SIGKILL)
    elif cmd == "hang-proxy":
        os.kill(host_pid(st, host, "proxyd"), signal.SIGSTOP)
    elif cmd == "stop-vrrpd":
        os.kill(host_pid(st, host, "vrrpd"), signal.SIGTERM)
    elif cmd == "cut":
        subprocess.run(["ip", "netns", "exec", sw, "ip", "link", "set", st["ports"][host], "nomaster"], check=True)
    elif cmd == "restore":
        subprocess.run(["ip", "netns", "exec", sw, "ip", "link", "set", st["ports"][host], "master", "br0"],
                       check=True)
        pid = host_pid(st, host, "proxyd")
        if alive(pid):
            os.kill(pid, signal.SIGCONT)
        else:
            start_proxyd(st, host)
        if not alive(host_pid(st, host, "vrrpd")):
            start_vrrpd(st, host)
        save(st)
    print(f"lab: {cmd} {host}")


def holders() -> list[str]:
    out = []
    for host in HOSTS:
        r = subprocess.run(["ip", "netns", "exec", ns(host), "ip", "-o", "-4", "addr", "show", "dev", "eth0"],
                           capture_output=True, text=True)
        if f" {VIP}/" in r.stdout:
            out.append(host)
    return out


def vrrp_state(st: dict, host: str) -> tuple[str, str]:
    """(state, effective priority) from vrrpd's SIGUSR1 dump."""
    pid = st["pids"][f"{host}.vrrpd"]
    # `unshare ... sh -c 'mount && exec vrrpd'`: vrrpd is the same pid.
    path = f"/proc/{pid}/root/tmp/keepalived.data"
    try:
        os.unlink(path)  # so the file read below is the fresh dump
    except OSError:
        pass
    try:
        os.kill(pid, signal.SIGUSR1)
    except ProcessLookupError:
        return ("down", "-")
    state, prio = "?", "?"
    deadline = time.monotonic() + 0.15
    while time.monotonic() < deadline:
        try:
            with open(path) as f:
                text = f.read()
            if "VRRP Scripts" not in text:  # still being written
                raise OSError("partial")
            for line in text.splitlines():
                line = line.strip()
                if line.startswith("State = "):
                    state = line.split("= ", 1)[1]
                if line.startswith("Effective priority = "):
                    prio = line.split("= ", 1)[1]
            break
        except OSError:
            time.sleep(0.01)
    return state, prio


def proxy_state(st: dict, host: str) -> str:
    pid = st["pids"][f"{host}.proxyd"]
    try:
        s = open(f"/proc/{pid}/stat").read().split()[2]
    except OSError:
        return "dead"
    return {"T": "hung", "Z": "dead"}.get(s, "running")


def tail(path: str, n: int) -> list[str]:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 200 * n))
            return f.read().decode(errors="replace").splitlines()[-n:]
    except OSError:
        return []


def snapshot() -> str:
    st = load()
    lines = [f"proxyd lab   {time.strftime('%H:%M:%S')}   VIP {VIP} held by: "
             + (", ".join(holders()) or "nobody")]
    for host in HOSTS:
        state, prio = vrrp_state(st, host)
        lines.append(f"  {host} {HOSTS[host]:<13} vrrp {state:<7} prio {prio:<4} proxyd {proxy_state(st, host)}")
    reqs = tail(os.path.join(RUN, "client.log"), 50)
    if reqs:
        oks = [r for r in reqs if r.split()[1] == "1"]
        last = " ".join(r.split()[2] if r.split()[1] == "1" else "FAIL" for r in reqs[-10:])
        lines.append(f"  client: {len(oks)}/{len(reqs)} ok over the last {len(reqs)} requests; latest: {last}")
    lines.append("  transitions:")
    for t in tail(os.path.join(RUN, "transitions.log"), 6):
        lines.append("    " + t)
    return "\n".join(lines)


def view() -> None:
    try:
        while True:
            text = snapshot()
            sys.stdout.write("\x1b[H\x1b[2J" + text + "\n\n(Ctrl-C leaves the view; the lab keeps running)\n")
            sys.stdout.flush()
            time.sleep(0.2)
    except KeyboardInterrupt:
        print()


def main() -> None:
    if os.geteuid() != 0:
        sys.exit("lab: run as root")
    args = sys.argv[1:]
    if not args:
        sys.exit(__doc__)
    cmd = args[0]
    if cmd == "up":
        build = os.path.join(SRC, "build")
        if len(args) >= 3 and args[1] == "--build":
            build = args[2]
        up(build)
    elif cmd == "down":
        down()
    elif cmd == "status":
        print(snapshot())
    elif cmd == "view":
        view()
    elif cmd in ("kill-proxy", "hang-proxy", "stop-vrrpd", "cut", "restore") and len(args) == 2:
        fault(cmd, args[1])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
