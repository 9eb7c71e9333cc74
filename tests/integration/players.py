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
    """A legal action from the view's own `legal` list.

    Card games: the first card play, else draw, else pass, else what is offered (Hearts passing).
    Hold'em, whose `legal` gives kinds and ranges: check, else call, else fold.
    """
    legal = view["legal"]
    kinds = {entry["type"]: entry for entry in legal}
    for kind, action in (("check", p.Check()), ("call", p.Call()), ("fold", p.Fold())):
        if kind in kinds:
            return action
    actions = [p.action_from_builtins(a) for a in legal]
    for kind in (p.Play, p.Draw, p.PassTurn):
        for action in actions:
            if isinstance(action, kind):
                return action
    return actions[0]


async def play_until_over(client: FeltClient, table: str, seat: int) -> tuple[p.GameOver, list[p.View]]:
    """Answer every view that offers this seat a move; return the game-over and every view seen.

    After acting, views that arrive before the ack were sent before the move was applied (another
    player's simultaneous move, say), so they are recorded but not acted on.
    """
    views: list[p.View] = []
    waiting_for: int | None = None
    while True:
        msg = await client.recv(timeout=30)
        if isinstance(msg, p.GameOver) and msg.table == table:
            return msg, views
        if isinstance(msg, p.Error):
            raise AssertionError(f"seat {seat} got an error: {msg}")
        if isinstance(msg, p.Ack) and msg.req == waiting_for:
            waiting_for = None
        if not isinstance(msg, p.View) or msg.table != table:
            continue
        views.append(msg)
        view = msg.view
        if waiting_for is None and view and not view.get("over") and view.get("legal"):
            waiting_for = client.next_req()
            await client.send(p.Act(table=table, action=choose(view), seq=msg.seq, req=waiting_for))


async def gather_all(*coros: Any) -> list[Any]:
    return list(await asyncio.gather(*coros))
