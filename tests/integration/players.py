"""Scripted players for the integration tests: connect, authenticate, and play from the views they get."""

from __future__ import annotations

import asyncio
from typing import Any

from common import protocol as p
from realtime.client import FeltClient


async def connect_player(url: str, token: str, origin: str, transport: str = "websocket") -> FeltClient:
    client = await FeltClient.connect(url, transport, origin=origin)
    welcome = await client.auth(token)
    assert isinstance(welcome, p.Welcome), welcome
    return client


def choose(view: dict[str, Any]) -> p.Action:
    """A legal action from the view's own `legal` list: the first card play, else draw, else pass."""
    legal = [p.action_from_builtins(a) for a in view["legal"]]
    for kind in (p.Play, p.Draw, p.PassTurn):
        for action in legal:
            if isinstance(action, kind):
                return action
    return legal[0]


async def play_until_over(client: FeltClient, table: str, seat: int) -> tuple[p.GameOver, list[p.View]]:
    """Answer every view where this seat is to move; return the game-over and every view seen."""
    views: list[p.View] = []
    while True:
        msg = await client.recv(timeout=30)
        if isinstance(msg, p.GameOver) and msg.table == table:
            return msg, views
        if isinstance(msg, p.Error):
            raise AssertionError(f"seat {seat} got an error: {msg}")
        if not isinstance(msg, p.View) or msg.table != table:
            continue
        views.append(msg)
        view = msg.view
        if view and not view.get("over") and view.get("turn") == seat and view.get("legal"):
            await client.send(p.Act(table=table, action=choose(view), seq=msg.seq,
                                    req=client.next_req()))


async def gather_all(*coros: Any) -> list[Any]:
    return list(await asyncio.gather(*coros))
