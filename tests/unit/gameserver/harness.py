"""A game server on a real ROUTER with a real store, driven by a DEALER playing a realtime process.

The store is the run's database (tests/dbs.py: SQLite, or PostgreSQL), one of the test directory's own.

The link is CurveZMQ as in production: the harness's DEALER has a realtime key ("rtA") on the game
server's allow-list and pins the server's key. Users 1-20 exist (u1 ... u20), as the frontend would have
registered them, since the game server refuses requests for players it does not know."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import zmq
from sqlalchemy import insert, select, update

from common import curve
from common import protocol as p
from common.config import keys_dir_of, load
from common.models import User
from common.schema import open_db
from gameserver.rules import games
from gameserver.server import GameServer
from gameserver.store import Store
from tests import dbs


class Harness:
    def __init__(self, tmp: Path, name: str = "g1", **settings: Any) -> None:
        settings.setdefault("entropy_wait", 0.0)  # deals at once unless a test plays the clients' part
        self.settings = load(env={"FELT_CONFIG": ""}, data_dir=str(tmp), heartbeat_interval=0.1,
                             bot_delay=0.0, database_url=dbs.database_url(tmp), **settings)
        self.engine = open_db(self.settings.db_url())
        self.keys = keys_dir_of(self.settings)
        self.realtime_key = curve.own_key(self.keys, "realtime", "rtA")
        with self.engine.begin() as conn:
            have = set(conn.execute(select(User.__table__.c.id)).scalars())
            for user in sorted(set(range(1, 21)) - have):
                conn.execute(insert(User).values(id=user, username=f"u{user}", display_name=f"u{user}",
                                                 password_hash="x", chips=0))
        self.ctx = zmq.Context()
        self.server = GameServer(self.settings, name, "tcp://127.0.0.1:*", Store(self.engine), games(),
                                 ctx=self.ctx)
        self.server.recover()

    def set_chips(self, user: int, chips: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(User).where(User.__table__.c.id == user).values(chips=chips))

    def dealer_for(self, key: curve.Key | None) -> zmq.Socket[Any]:
        """A DEALER connected to the server; with `key`, as that realtime process (None: no CURVE)."""
        dealer = self.ctx.socket(zmq.DEALER)
        dealer.setsockopt(zmq.LINGER, 0)
        if key is not None:
            server_key = curve.server_key(self.keys, self.server.name)
            assert server_key is not None and key.secret is not None
            dealer.curve_secretkey, dealer.curve_publickey = key.secret, key.public
            dealer.curve_serverkey = server_key
        dealer.connect(self.endpoint)
        return dealer

    async def __aenter__(self) -> Harness:
        self.endpoint = self.server.bind()
        self.task = asyncio.ensure_future(self.server.run())
        self.dealer = self.dealer_for(self.realtime_key)
        self.rid = 0
        self.parts: list[p.InternalMessage] = []
        self.beating = True
        self.beats = asyncio.ensure_future(self._beat())
        return self

    async def _beat(self) -> None:
        """Be a live realtime process: heartbeat like the gateway does (tests may stop it)."""
        while self.beating:
            self.send(p.Heartbeat(sender="rtA"))
            await asyncio.sleep(0.05)

    async def __aexit__(self, *exc: Any) -> None:
        self.beating = False
        await self.beats
        self.server.stop()
        await asyncio.wait_for(self.task, 5)
        self.dealer.close(linger=0)
        self.ctx.term()
        self.engine.dispose()

    def send(self, msg: p.Msg) -> None:
        self.dealer.send(p.encode(msg))

    def forward(self, body: Any, user: int = 1, conn: str = "rtA:1", fold: bool = False) -> int:
        """Send `body` as a realtime process forwards it (`fold`: from a client of protocol 2); its rid."""
        self.rid += 1
        self.send(p.Forward(conn=conn, user=user, name=f"u{user}", rid=self.rid, body=body, fold=fold))
        return self.rid

    async def recv(self, timeout: float = 3.0) -> p.InternalMessage:
        """The next message; a game server sends each pass's messages to a peer as one multipart."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not self.parts and asyncio.get_running_loop().time() < deadline:
            try:
                self.parts.extend(p.decode_parts(self.dealer.recv_multipart(zmq.NOBLOCK)))
            except zmq.Again:
                await asyncio.sleep(0.005)
        if not self.parts:
            raise TimeoutError("no message from the game server")
        return self.parts.pop(0)

    async def drain(self, quiet: float = 0.1) -> list[p.InternalMessage]:
        """Everything sent so far (until nothing more comes for `quiet` seconds)."""
        got = []
        while True:
            try:
                got.append(await self.recv(timeout=quiet))
            except TimeoutError:
                return got

    async def reply_to(self, rid: int) -> p.ServerMessage:
        while True:
            msg = await self.recv()
            if isinstance(msg, p.Deliver) and msg.rid == rid:
                return p.decode_server(msg.frame)


@contextlib.contextmanager
def unwritable(data_dir: Path) -> Iterator[None]:
    """The test directory's database refuses writes for the duration (`tests.dbs.read_only`)."""
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(dbs.read_only(data_dir))
        except PermissionError as exc:
            pytest.skip(str(exc))
        yield
