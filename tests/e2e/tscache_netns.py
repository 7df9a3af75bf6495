"""Test hosts in network namespaces, for the tests and tools that need
several "hosts" on one machine (tests/e2e/test_multihost,
tools/image-check): a switch namespace with bridge br0 and, per host, a
namespace whose eth0 (SUBNET + number, /24) is a veth pair's end, the
other end (p-HOST) on the bridge. Nothing touches this machine's own
interfaces or routes. Namespaces are named PREFIX<pid>-HOST, removed by
Net.remove(), and remove_leftovers(PREFIX) removes those of a run that
crashed. Needs root (CAP_NET_ADMIN) and `ip` (iproute2)."""

import ctypes
import os
import re
import shutil
import signal
import subprocess

from tscache_e2e import wait_for

CLONE_NEWNET = 0x40000000


def ip(*args, check_rc=True):
    """Runs ip ARGS; raises with its stderr if it fails (check_rc)."""
    r = subprocess.run(["ip"] + list(args), capture_output=True, text=True,
                       timeout=10)
    if check_rc and r.returncode != 0:
        raise RuntimeError("ip %s: %s" % (" ".join(args), r.stderr.strip()))
    return r


def ns_pids(ns):
    r = ip("netns", "pids", ns, check_rc=False)
    return [int(x) for x in r.stdout.split()] if r.returncode == 0 else []


def ns_remove(ns):
    """SIGKILLs every process in ns and deletes it."""
    for pid in ns_pids(ns):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    wait_for(lambda: not ns_pids(ns), 5)
    ip("netns", "del", ns, check_rc=False)


def remove_leftovers(prefix):
    """Namespaces of earlier runs (named prefix<pid>-...) whose process is
    gone."""
    r = ip("netns", "list", check_rc=False)
    for line in r.stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        m = re.match(re.escape(prefix) + r"(\d+)-", name)
        if m and not os.path.exists("/proc/" + m.group(1)):
            ns_remove(name)


def can_make_namespaces(prefix):
    """None if a namespace can be made here, else why not."""
    if not shutil.which("ip"):
        return "no ip command (iproute2)"
    probe = "%s%d-probe" % (prefix, os.getpid())
    r = ip("netns", "add", probe, check_rc=False)
    if r.returncode != 0:
        return "cannot make a network namespace (needs root or " \
            "CAP_NET_ADMIN): " + r.stderr.strip()
    ip("netns", "del", probe, check_rc=False)
    return None


class Net:
    """The hosts of one run. hosts: {name: number}, the last byte of each
    host's address in subnet ("10.213.0.": a /24 of its own per user, so
    that two kinds of run can go on at once)."""

    def __init__(self, prefix, subnet, hosts):
        self.tag = "%s%d" % (prefix, os.getpid())
        self.subnet = subnet
        self.hosts = dict(hosts)
        self.switch = self.tag + "-switch"
        self.made = []
        self.own_ns = os.open("/proc/self/ns/net", os.O_RDONLY)
        self._add_ns(self.switch)
        ip("-n", self.switch, "link", "add", "br0", "type", "bridge")
        ip("-n", self.switch, "link", "set", "br0", "up")

    def _add_ns(self, ns):
        ip("netns", "add", ns)
        self.made.append(ns)
        ip("-n", ns, "link", "set", "lo", "up")

    def addr(self, host):
        return self.subnet + str(self.hosts[host])

    def ns(self, host):
        return "%s-%s" % (self.tag, host)

    def add_host(self, host):
        ns = self.ns(host)
        self._add_ns(ns)
        ip("-n", self.switch, "link", "add", "p-" + host, "type", "veth",
           "peer", "name", "eth0", "netns", ns)
        ip("-n", self.switch, "link", "set", "p-" + host, "master", "br0",
           "up")
        ip("-n", ns, "addr", "add", self.addr(host) + "/24", "dev", "eth0")
        ip("-n", ns, "link", "set", "eth0", "up")

    def prefix(self, host):
        """The command that runs a program in host's namespace."""
        return ["ip", "netns", "exec", self.ns(host)]

    def enter(self, host):
        """Moves this process (its one thread) into host's namespace: the
        sockets it opens from now on are that host's."""
        self._setns(os.open("/run/netns/" + self.ns(host), os.O_RDONLY))

    def _setns(self, fd):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns")

    def down(self, host):
        """The host goes down: its link is cut first (so nothing it says
        on the way out reaches anyone), then its processes are
        SIGKILLed."""
        ip("-n", self.switch, "link", "set", "p-" + host, "down")
        ip("-n", self.ns(host), "link", "set", "eth0", "down")
        for pid in ns_pids(self.ns(host)):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def remove(self):
        if self.own_ns is not None:
            self._setns(self.own_ns)
            os.close(self.own_ns)
            self.own_ns = None
        for ns in reversed(self.made):
            ns_remove(ns)
        self.made = []

    def left(self):
        """Namespaces of this run that still exist."""
        return [n for n in ip("netns", "list").stdout.split()
                if n.startswith(self.tag)]
