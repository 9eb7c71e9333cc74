"""This realtime process in the registry: its own lease, its links following the game servers there, and
its drain (every client sent to another realtime server, then exit).

Every heartbeat interval it renews its lease (reporting its connection count, which the frontend uses
to hand out the least-loaded realtime server) and reads the game-server rows; the gateway then links to
every game server that is live or draining (a draining one still serves its tables until it has handed
them over) and closes the links of those gone. Database calls run on a worker thread, so a slow database
never stalls the event loop; a failed round is logged and the last known topology stands.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError

from common.registry import DRAINING, GONE, Registry, Replaced, Server
from realtime.gateway import Gateway

if TYPE_CHECKING:
    from realtime.app import Services

log = logging.getLogger("felt.realtime.topology")


class Follower:
    def __init__(self, registry: Registry, gateway: Gateway, name: str, boot: str, public_url: str,
                 public_key: str, load: Callable[[], int], interval: float) -> None:
        self.registry = registry
        self.gateway = gateway
        self.name = name
        self.boot = boot
        self.public_url = public_url
        self.public_key = public_key
        self.load = load
        self.interval = interval
        self.registered = False
        self.state = "live"
        self.on_drain: Callable[[], None] | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._follow())

    async def stop(self) -> None:
        """Stop following and leave the registry (the row reads `gone` at once)."""
        if self._task is not None:
            self._task.cancel()
        if self.registered:
            try:
                loop = asyncio.get_running_loop()
                await loop.run_in_executor(None, self.registry.leave, self.name, self.boot)
            except SQLAlchemyError as exc:
                log.warning("could not leave the registry (%s); the lease runs out by itself", exc)

    async def _follow(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                state, servers = await loop.run_in_executor(None, self._round, self.load())
            except Replaced:
                log.error("another process registered as %s; this one keeps serving its connections but "
                          "no longer renews that name", self.name)
                return
            except SQLAlchemyError as exc:
                log.warning("registry round failed (%s); keeping the links as they are", exc)
            else:
                self.apply(servers)
                if state == DRAINING and self.state != DRAINING and self.on_drain is not None:
                    self.on_drain()
                self.state = state
            await asyncio.sleep(self.interval)

    def _round(self, load: int) -> tuple[str, list[Server]]:
        """On the worker thread: renew (or register) this process, and read the game servers."""
        if not self.registered:
            self.registry.register("realtime", self.name, self.public_url, boot=self.boot,
                                   public_key=self.public_key, load=load)
            self.registered = True
            state = "live"
        else:
            state = self.registry.renew(self.name, self.boot, load)
        return state, self.registry.servers("gameserver")

    def apply(self, servers: list[Server]) -> None:
        """Link to every registered game server that is not gone; a configured one that has not
        registered yet (starting at the same moment as this process) keeps its configured link."""
        now = self.registry.clock()
        linked = {s.name: (s.endpoint, s.public_key.encode() or None)
                  for s in servers if s.state(now) != GONE}
        registered = {s.name for s in servers}
        for name, endpoint in self.gateway.settings.gameservers.items():
            if name not in registered:
                linked[name] = (endpoint, None)
        self.gateway.set_servers(linked)


async def drain_clients(services: Services, registry: Registry, name: str, spread: float,
                        deadline: float) -> None:
    """A drain of this realtime server: send every client to another live realtime server (`move`, the
    least loaded first, round robin; behind a proxy, to the proxy's URL once another one is live), spread
    over `spread` seconds so they do not all arrive at once; return once none is left, or at `deadline`
    seconds (the rest are closed)."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    proxy = services.settings.realtime_proxy_url
    if proxy:
        # behind a proxy the clients are moved to its one URL: let it first hear (its follower reads the
        # registry every heartbeat) that this server takes no new sessions, so they land on another
        await asyncio.sleep(services.settings.heartbeat_interval)
    while services.conns and loop.time() - start < deadline:
        try:
            others = [s.endpoint for s in await loop.run_in_executor(None, registry.serving, "realtime")
                      if s.name != name]
        except SQLAlchemyError as exc:
            log.warning("drain: cannot read the registry (%s); trying again", exc)
            others = []
        if not others:
            log.warning("draining, but no other realtime server is live; %d client(s) wait",
                        len(services.conns))
            await asyncio.sleep(1.0)
            continue
        if proxy:
            others = [proxy]
        conns = list(services.conns.values())
        log.warning("draining: moving %d client(s) to %s", len(conns), ", ".join(others))
        pause = spread / max(1, len(conns))
        for i, conn in enumerate(conns):
            if not conn.closed:
                conn.move(others[i % len(others)])
            if pause >= 0.001:
                await asyncio.sleep(pause)
        await asyncio.sleep(0.5)  # those who connected meanwhile (with an older grant) go next round
    for conn in list(services.conns.values()):
        conn.close(4009, "this server is going away")
    log.warning("drained: no client left; exiting")
