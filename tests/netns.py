"""Test hosts made of Linux network namespaces and veth links: a public, a private and a database host.

`HostSplit.create()` (root and iproute2 needed; `unavailable()` says why not) builds, for one test run:

    this machine ("outside")  10.77.A.1 ──veth── 10.77.A.2  public    10.77.B.1 ──┐
                                                           private   10.77.B.2 ──┼── lan: a bridge
                                                           database  10.77.B.3 ──┘

A = 2k and B = 2k + 1 for a run number k (0–127) that no address of this machine uses, chosen under a
lock, so parallel runs do not clash; namespace names carry the run's pid and k. The public host has an
outside address on a veth to this machine — where the scripted players are — and an internal one on the
LAN; the private and database hosts are only on the LAN. No namespace forwards packets. This machine even
gets a route to the LAN through the public host (what an outsider who knows the internal addresses would
try): its packets reach the public host and are dropped there, so a connection from outside to a private
address gets nowhere. Where nftables is installed the private host also has a firewall (`firewalled`):
new connections only from the public host's internal address, so not even the database host reaches it.

`Netns.argv(cmd)` runs a command on a host (`ip netns exec`, which execs: the process id is the program's);
`Netns.call(fn)` runs a function on a thread that joined the host's namespace, so the sockets it opens (a
database connection, a probe) are that host's, and stay so when used from elsewhere. `destroy()` deletes
every namespace (with the veths in them and their peers here); `create()` first deletes namespaces left by
runs whose process is gone.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import ctypes
import fcntl
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")

CLONE_NEWNET = 0x40000000
LOCK = os.path.join("/run/lock" if os.path.isdir("/run/lock") else tempfile.gettempdir(), "felt-netns.lock")
_STALE = re.compile(r"^felt-(\d+)-\d+-\w+$")


def unavailable() -> str | None:
    """Why network namespaces cannot be made here, or None if they can."""
    if os.geteuid() != 0:
        return "network namespaces need root (CI runs as root)"
    if shutil.which("ip") is None:
        return "iproute2's `ip` is missing (apt-get install iproute2)"
    done = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
    if done.returncode != 0:
        return f"`ip netns` does not work here: {done.stderr.strip()}"
    return None


def ip(*args: str) -> None:
    done = subprocess.run(["ip", *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")


def _enter(name: str) -> None:
    """Move the calling thread into network namespace `name` (Python 3.11 has no os.setns)."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(f"/run/netns/{name}", os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, f"setns {name}: {os.strerror(errno)}")
    finally:
        os.close(fd)


@dataclass
class Netns:
    """One host: a network namespace and its address on the network it is reached on."""

    name: str
    address: str
    _thread: concurrent.futures.ThreadPoolExecutor | None = field(default=None, repr=False)

    @property
    def prefix(self) -> tuple[str, ...]:
        return ("ip", "netns", "exec", self.name)

    def argv(self, command: list[str]) -> list[str]:
        return [*self.prefix, *command]

    def call(self, fn: Callable[[], T], timeout: float = 60.0) -> T:
        """`fn()` run on this host's own thread (one, kept until `close`), its result or its exception."""
        if self._thread is None:
            self._thread = concurrent.futures.ThreadPoolExecutor(
                max_workers=1, thread_name_prefix=self.name, initializer=_enter, initargs=(self.name,))
        return self._thread.submit(fn).result(timeout)

    def close(self) -> None:
        if self._thread is not None:
            self._thread.shutdown(wait=True)
            self._thread = None


@dataclass
class HostSplit:
    run: int  # k: the outside subnet is 10.77.2k.0/24, the LAN 10.77.2k+1.0/24
    public: Netns
    private: Netns
    database: Netns
    lan: Netns  # the switch: a bridge, no address
    outside: str  # this machine's address on the veth to the public host
    outside_link: str  # that veth's name here
    created: list[str] = field(default_factory=list)
    firewalled: bool = False  # the private host admits new connections from the public host only

    @property
    def lan_prefix(self) -> str:
        return f"10.77.{2 * self.run + 1}"

    @property
    def lan_subnet(self) -> str:
        return f"{self.lan_prefix}.0/24"

    @property
    def internal_address(self) -> str:
        """The public host's address on the LAN (where its realtime processes reach game servers from)."""
        return f"{self.lan_prefix}.1"

    @property
    def hosts(self) -> list[Netns]:
        return [self.public, self.private, self.database, self.lan]

    @classmethod
    def create(cls) -> HostSplit:
        with _locked():
            _sweep_stale()
            run = _free_run()
            out, lan = f"10.77.{2 * run}", f"10.77.{2 * run + 1}"
            tag = f"felt-{os.getpid()}-{run}"
            split = cls(run, Netns(f"{tag}-public", f"{out}.2"), Netns(f"{tag}-private", f"{lan}.2"),
                        Netns(f"{tag}-db", f"{lan}.3"), Netns(f"{tag}-lan", ""), f"{out}.1", f"felt{run}out")
            try:
                split._build()
            except BaseException:
                split.destroy()
                raise
            return split

    def _build(self) -> None:
        for host in self.hosts:
            ip("netns", "add", host.name)
            self.created.append(host.name)
            ip("-n", host.name, "link", "set", "lo", "up")
            # no host forwards for another (new namespaces start so; made sure)
            subprocess.run(host.argv(["sh", "-c", "echo 0 > /proc/sys/net/ipv4/ip_forward"]), check=True)
        # outside: this machine <-> the public host
        ip("link", "add", self.outside_link, "type", "veth", "peer", "name", "outside",
           "netns", self.public.name)
        ip("addr", "add", f"{self.outside}/24", "dev", self.outside_link)
        ip("link", "set", self.outside_link, "up")
        ip("-n", self.public.name, "addr", "add", f"{self.public.address}/24", "dev", "outside")
        ip("-n", self.public.name, "link", "set", "outside", "up")
        # the LAN: a bridge in its own namespace, one veth from each host
        ip("-n", self.lan.name, "link", "add", "lan", "type", "bridge")
        ip("-n", self.lan.name, "link", "set", "lan", "up")
        for host, number, port in ((self.public, 1, "public"), (self.private, 2, "private"),
                                   (self.database, 3, "db")):
            ip("-n", host.name, "link", "add", "internal", "type", "veth", "peer", "name", port,
               "netns", self.lan.name)
            ip("-n", self.lan.name, "link", "set", port, "master", "lan", "up")
            ip("-n", host.name, "addr", "add", f"{self.lan_prefix}.{number}/24", "dev", "internal")
            ip("-n", host.name, "link", "set", "internal", "up")
        # an outsider's best try: the LAN routed through the public host (which does not forward)
        ip("route", "add", self.lan_subnet, "via", self.public.address, "dev", self.outside_link)
        if shutil.which("nft") is not None:
            self._firewall()

    def _firewall(self) -> None:
        rules = f"""table inet felt {{
            chain input {{
                type filter hook input priority 0; policy drop;
                iif "lo" accept
                ct state established,related accept
                ip saddr {self.internal_address} accept
            }}
        }}"""
        done = subprocess.run(self.private.argv(["nft", "-f", "-"]), input=rules, capture_output=True,
                              text=True)
        if done.returncode != 0:
            raise RuntimeError(f"nft on the private host: {done.stderr.strip()}")
        self.firewalled = True

    def destroy(self) -> None:
        """Delete every namespace made (processes in them must have been ended first)."""
        for host in self.hosts:
            host.close()
        for name in reversed(self.created):
            with contextlib.suppress(RuntimeError):
                ip("netns", "del", name)
        self.created.clear()
        with contextlib.suppress(RuntimeError):  # gone with its peer; only if the public host never was
            ip("link", "del", self.outside_link)


@contextlib.contextmanager
def _locked() -> Iterator[None]:
    with open(LOCK, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _free_run() -> int:
    """A run number whose two 10.77 subnets no address or route of this machine uses."""
    shown = "".join(subprocess.run(["ip", "-4", *what], capture_output=True, text=True, check=True).stdout
                    for what in (["-o", "addr", "show"], ["route", "show"]))
    used = {int(m) // 2 for m in re.findall(r"\b10\.77\.(\d+)\.", shown)}
    for run in range(128):
        if run not in used:
            return run
    raise RuntimeError("every 10.77.x.0/24 subnet pair is in use here")


def _sweep_stale() -> None:
    """Delete the namespaces of earlier runs whose process is gone (a run killed before its clean-up)."""
    names = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    for line in names.splitlines():
        name = line.split()[0] if line.split() else ""
        match = _STALE.match(name)
        if match is None:
            continue
        try:
            os.kill(int(match.group(1)), 0)
        except ProcessLookupError:
            with contextlib.suppress(RuntimeError):
                ip("netns", "del", name)
        except PermissionError:
            pass
