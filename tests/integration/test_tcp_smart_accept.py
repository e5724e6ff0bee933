#!/usr/bin/env python3
"""option tcp-smart-accept, seen on the wire (HAProxy 2.6): in mode http the
proxy's listening sockets leave the kernel in delayed-ACK mode, so a
client's request is not acknowledged by a bare ACK of its own: the response
carries the ACK (one segment less per connection). `no option
tcp-smart-accept` brings the bare ACK back; mode tcp has it unless the
option is set.

The segments are read from the loopback interface with a packet socket
(root: CI runs as root)."""
import os
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import HttpBackend, Proxy, Skip, check, free_port, run_tests  # noqa: E402

CONNECTIONS = 6


class LoopbackSniffer:
    """Records TCP segments on lo to or from `port`: (src port, dst port,
    flags, payload length), each once (lo shows a packet twice)."""

    def __init__(self, port: int):
        self.port = port
        self.segments: list[tuple[int, int, int, int]] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        try:
            self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.ntohs(0x0003))
        except PermissionError:
            raise Skip("needs root for a packet socket on lo")
        self.sock.bind(("lo", 0))
        self.sock.settimeout(0.05)
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self) -> None:
        deadline = time.monotonic() + 60  # bounded
        while not self.stop.is_set() and time.monotonic() < deadline:
            try:
                pkt, addr = self.sock.recvfrom(65535)
            except OSError:
                continue
            if addr[2] == socket.PACKET_OUTGOING or len(pkt) < 14 + 20:
                continue
            ip = pkt[14:]
            if ip[0] >> 4 != 4 or ip[9] != 6:
                continue
            ihl = (ip[0] & 15) * 4
            tcp = ip[ihl:]
            sport, dport = struct.unpack("!HH", tcp[:4])
            if self.port not in (sport, dport):
                continue
            total = struct.unpack("!H", ip[2:4])[0]
            plen = total - ihl - (tcp[12] >> 4) * 4
            with self.lock:
                self.segments.append((sport, dport, tcp[13], plen))

    def close(self) -> None:
        self.stop.set()
        self.t.join(2)
        self.sock.close()

    def bare_ack_before_reply(self, client_port: int) -> bool:
        """True when the proxy sent the client a bare ACK (no data, no
        SYN/FIN/RST) after the client's request and before its first byte
        of reply."""
        with self.lock:
            segs = list(self.segments)
        seen_request = False
        for sport, dport, flags, plen in segs:
            if sport == client_port and dport == self.port and plen > 0:
                seen_request = True
            elif sport == self.port and dport == client_port and seen_request:
                if plen > 0:
                    return False
                if flags & 0x07 == 0 and flags & 0x10:  # ACK, no SYN/FIN/RST
                    return True
        return False


def one_request(port: int) -> int:
    """A fresh connection, one request, the whole reply; its source port."""
    with socket.create_connection(("127.0.0.1", port), timeout=3) as s:
        cport = s.getsockname()[1]
        s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            if not s.recv(65536):
                break
    return cport


def bare_acks(mode: str, option: str) -> int:
    """Connections (of CONNECTIONS) whose request got a bare ACK from the
    proxy, for a frontend in `mode` with the `option` line (or none)."""
    with HttpBackend("web1") as w1:
        port = free_port()
        cfg = ("defaults\n    timeout connect 2s\n    timeout client 5s\n    timeout server 5s\n"
               f"frontend fe\n    mode {mode}\n    bind 127.0.0.1:{port}\n"
               + (f"    {option}\n" if option else "")
               + "    default_backend be\n"
               f"backend be\n    mode {mode}\n    server web1 127.0.0.1:{w1.port}\n")
        with Proxy(cfg):
            sniffer = LoopbackSniffer(port)
            try:
                time.sleep(0.1)
                ports = [one_request(port) for _ in range(CONNECTIONS)]
                time.sleep(0.1)
                return sum(sniffer.bare_ack_before_reply(p) for p in ports)
            finally:
                sniffer.close()


def test_http_mode_response_carries_the_ack():
    n = bare_acks("http", "")
    # A delayed-ACK timer (40 ms) may beat a reply on a loaded machine: once.
    check(n <= 1, f"{n} of {CONNECTIONS} requests got a bare ACK in mode http")


def test_no_option_tcp_smart_accept_brings_the_bare_ack_back():
    n = bare_acks("http", "no option tcp-smart-accept")
    check(n >= CONNECTIONS - 1, f"only {n} of {CONNECTIONS} requests got a bare ACK")


def test_tcp_mode_acks_unless_the_option_is_set():
    n = bare_acks("tcp", "")
    check(n >= CONNECTIONS - 1, f"mode tcp: only {n} of {CONNECTIONS} requests got a bare ACK")
    n = bare_acks("tcp", "option tcp-smart-accept")
    check(n <= 1, f"mode tcp with the option: {n} of {CONNECTIONS} requests got a bare ACK")


if __name__ == "__main__":
    run_tests(globals())
