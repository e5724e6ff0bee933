"""The environment scripts get, vrrpd against keepalived 2.2.7.

keepalived 2.2.7 runs notify and vrrp_script commands with its own whole
environment (checked: a variable set only in keepalived's environment reaches
a `notify` script, and a vrrp_script running as `nobody`); it builds no small
fixed one. vrrpd does the same, so scripts written for keepalived find what
they found there. Each daemon runs alone in its own lab host (198.18.0.0/15);
processes are stopped by pid, namespaces deleted. Root only.

Prints PASS/FAIL per test and "N passed, N failed".
"""

from __future__ import annotations

import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from vrrp_nodes import Node, check, conf, instance, netlab, run_tests, script_file  # noqa: E402

MARKER = "VRRPD_TEST_ENV_MARKER"
# Set by /bin/sh itself, not by the daemon.
SHELL_OWN = {"PWD", "OLDPWD", "SHLVL", "_"}


def notify_env(kind: str, tmp: str) -> dict[str, str]:
    out = os.path.join(tmp, f"{kind}.env")
    script = script_file(tmp, f"{kind}-notify.sh", f'[ "$3" = MASTER ] && env > "{out}"; exit 0')
    glob = "    enable_script_security\n    script_user root\n"
    body = instance(200, vip="198.18.0.225", extra=f"    notify {script}\n")
    with netlab.Lab() as lab:
        lab.add_host("lb1", "198.18.0.11")
        node = Node(lab, "lb1", kind, conf(body, glob), tmp)
        os.environ[MARKER] = "from-the-daemon"
        try:
            node.start()
        finally:
            del os.environ[MARKER]
        check(netlab.wait_until(lambda: os.path.exists(out) and os.path.getsize(out) > 0, 10),
              f"{kind}: no MASTER notify:\n" + node.output()[-1500:])
        node.stop()
    env = {}
    with open(out) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("=")
            if k and k not in SHELL_OWN:
                env[k] = v
    return env


def test_notify_scripts_get_the_daemons_environment_as_in_keepalived() -> None:
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        ka = notify_env("keepalived", tmp)
        vr = notify_env("vrrpd", tmp)
        check(ka.get(MARKER) == "from-the-daemon", "keepalived no longer passes its environment")
        check(vr.get(MARKER) == "from-the-daemon", "vrrpd did not pass its environment")
        check(set(vr) == set(ka), f"names differ: vrrpd only {sorted(set(vr) - set(ka))}, "
              f"keepalived only {sorted(set(ka) - set(vr))}")


if __name__ == "__main__":
    sys.exit(run_tests(globals()))
