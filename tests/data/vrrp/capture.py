#!/usr/bin/env python3
# One-off capture of real keepalived adverts for tests/data/vrrp/ (see README).
# Run as root: python3 capture.py [OUTDIR]   (default /tmp/vp-capture)
# Creates namespaces vp-ka1/vp-ka2 joined by a veth (198.18.10.1/.2, IPv6
# off), runs two keepalived per scenario, records every IPv4 protocol-112
# frame seen on vp-b ("epoch hex" lines in OUTDIR/<scenario>.cap), stops the
# processes by pid and deletes the namespaces.
# "capture.py --sniff IFNAME SECONDS" is the sniffer it runs inside vp-ka2.
import socket, subprocess, time, os, sys, signal

def sniff_main(ifname, secs):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    s.bind((ifname, 0))
    s.settimeout(0.2)
    end = time.time() + secs
    while time.time() < end:
        try:
            f = s.recv(65535)
        except socket.timeout:
            continue
        if len(f) < 34 or f[12:14] != b'\x08\x00':
            continue
        ip = f[14:]
        if ip[9] != 112:
            continue
        tot = int.from_bytes(ip[2:4], 'big')
        print(f"{time.time():.3f} {ip[:tot].hex()}", flush=True)

def sh(c, check=True):
    r = subprocess.run(c, shell=True, capture_output=True, text=True)
    if check and r.returncode: print("FAIL", c, r.stderr); sys.exit(1)
    return r.stdout
def setup():
    sh("ip netns add vp-ka1"); sh("ip netns add vp-ka2")
    sh("ip link add vp-a netns vp-ka1 type veth peer name vp-b netns vp-ka2")
    for ns, ifn, a in (("vp-ka1","vp-a","198.18.10.1"),("vp-ka2","vp-b","198.18.10.2")):
        sh(f"ip netns exec {ns} sysctl -qw net.ipv6.conf.all.disable_ipv6=1")
        sh(f"ip netns exec {ns} sysctl -qw net.ipv6.conf.default.disable_ipv6=1")
        sh(f"ip netns exec {ns} sysctl -qw net.ipv6.conf.{ifn}.disable_ipv6=1", check=False)
        sh(f"ip -n {ns} addr add {a}/24 dev {ifn}")
        sh(f"ip -n {ns} link set lo up"); sh(f"ip -n {ns} link set {ifn} up")
def teardown():
    sh("ip netns del vp-ka1", check=False); sh("ip netns del vp-ka2", check=False)
def conf(name, ifn, prio, state, version, extra, uni):
    return f"""global_defs {{
  router_id {name}
  vrrp_version {version}
}}
vrrp_instance VI_1 {{
  state {state}
  interface {ifn}
  virtual_router_id 51
  priority {prio}
  advert_int 1
{extra}
{uni}
  virtual_ipaddress {{
    198.18.10.100/24
    198.18.10.101/24
  }}
}}
"""
def scenario(tag, version, extra, unicast):
    procs = []
    for ns, ifn, prio, state, me, peer in (("vp-ka1","vp-a",150,"MASTER","198.18.10.1","198.18.10.2"),
                                            ("vp-ka2","vp-b",100,"BACKUP","198.18.10.2","198.18.10.1")):
        uni = f"  unicast_src_ip {me}\n  unicast_peer {{\n    {peer}\n  }}" if unicast else ""
        path = f"{D}/{tag}-{ns}.conf"
        open(path, "w").write(conf(ns, ifn, prio, state, version, extra, uni))
        log = open(f"{D}/{tag}-{ns}.log", "w")
        p = subprocess.Popen(["ip","netns","exec",ns,"/usr/sbin/keepalived","-n","-l","-D","-P",
                              "-f",path,"-p",f"{D}/{tag}-{ns}.pid","-r",f"{D}/{tag}-{ns}-vrrp.pid"],
                             stdout=log, stderr=subprocess.STDOUT)
        procs.append(p)
    sniff = subprocess.Popen(["ip","netns","exec","vp-ka2",sys.executable,os.path.abspath(__file__),"--sniff","vp-b","9"],
                             stdout=open(f"{D}/{tag}.cap","w"))
    time.sleep(6)
    procs[0].send_signal(signal.SIGTERM)   # master stops: priority 0 advert, then backup takes over
    procs[0].wait(timeout=10)
    sniff.wait(timeout=20)
    procs[1].send_signal(signal.SIGTERM); procs[1].wait(timeout=10)

if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--sniff":
        sniff_main(sys.argv[2], float(sys.argv[3]))
        sys.exit(0)
    D = sys.argv[1] if len(sys.argv) > 1 else "/tmp/vp-capture"
    os.makedirs(D, exist_ok=True)
    teardown(); setup()
    try:
        scenario("v2-pass", 2, "  authentication {\n    auth_type PASS\n    auth_pass vrrpd\n  }", False)
        scenario("v3-mcast", 3, "", False)
        scenario("v3-unicast", 3, "", True)
        scenario("v3-unicast-oldck", 3, "  old_unicast_checksum", True)
        scenario("v2-unicast", 2, "", True)
    finally:
        teardown()
