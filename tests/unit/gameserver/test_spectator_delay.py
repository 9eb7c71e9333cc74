"""Spectator delay on a real game server: a spectator frame never arrives sooner than the table's delay
allows (seconds, or one whole hand), a newcomer is never shown the live table, and the players are not
held back."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from common import protocol as p
from common.policy import TablePolicy
from gameserver import engine as en
from tests.unit.gameserver.frames import acked_table, narrow
from tests.unit.gameserver.harness import Harness

SPECTATOR = "rtA:5"


async def spectator_frames(h: Harness, until: float) -> list[tuple[float, p.ServerMessage]]:
    """(time received, frame) of everything sent to the spectator until `until` (wall clock)."""
    got = []
    while time.time() < until:
        try:
            msg = await h.recv(timeout=0.05)
        except TimeoutError:
            continue
        if isinstance(msg, p.Deliver) and SPECTATOR in msg.conns:
            got.append((time.time(), p.decode_server(msg.frame)))
    return got


def test_seconds_no_spectator_frame_before_the_delay(tmp_path: Path) -> None:
    delay = 0.6

    async def scenario() -> None:
        async with Harness(tmp_path) as h:
            table_id = acked_table(await h.reply_to(h.forward(
                p.CreateTable(game="crazy_eights", seats=2, spectator_delay=delay))))
            assert h.server.tables[table_id].info().spectator_delay == delay
            await h.reply_to(h.forward(p.Join(table=table_id), user=2, conn="rtA:2"))
            await h.reply_to(h.forward(p.Start(table=table_id)))
            rid = h.forward(p.Watch(table=table_id), user=5, conn=SPECTATOR)
            first = None
            while first is None:  # the newcomer: the ack, then not the live table
                msg = await h.recv()
                if isinstance(msg, p.Deliver) and SPECTATOR in msg.conns and msg.rid != rid:
                    first = narrow(p.decode_server(msg.frame), p.View)
            assert first.view is None and first.seq < h.server.tables[table_id].seq
            sent: dict[int, float] = {}  # seq -> when the request that made it was sent
            table = h.server.tables[table_id]
            for _ in range(4):  # whoever is to move draws (or passes)
                mover = table.state.to_act[0] + 1
                kinds = {a.type for a in table.game.legal(table.state.game, mover - 1)}
                action = p.Draw() if "draw" in kinds else p.PassTurn()
                at = time.time()
                answer = await h.reply_to(h.forward(p.Act(table=table_id, action=action), user=mover,
                                                    conn=f"rtA:{mover}"))
                assert isinstance(answer, p.Ack), answer
                sent[table.seq] = at
            last = table.seq
            got = await spectator_frames(h, time.time() + delay + 1.5)
            views = [(at, frame) for at, frame in got if isinstance(frame, p.View)]
            assert views and views[-1][1].seq == last, "every move reaches the spectator, late"
            for at, view in views:
                assert view.seat is None  # the spectator view, never a seat's
                if view.seq in sent:
                    assert at >= sent[view.seq] + delay, f"seq {view.seq} came {at - sent[view.seq]:.3f} s on"

    asyncio.run(scenario())


def test_a_hand_delay_shows_each_hand_only_once_the_next_is_dealt(tmp_path: Path) -> None:
    async def watched(h: Harness) -> set[int]:
        """The hands a spectator of a new table of a person and a bot is shown; stops early if a hand
        cleaned out a seat (the table then deals no next hand, so the last is never shown)."""
        # a disconnected player's turns wait for nobody: a bot plays them at once
        table_id = acked_table(await h.reply_to(h.forward(
            p.CreateTable(game="holdem", seats=2, spectator_delay="hand",
                          policy=TablePolicy(disconnect_bank=0)))))
        await h.reply_to(h.forward(p.AddBot(table=table_id)))
        await h.reply_to(h.forward(p.Start(table=table_id)))
        await h.reply_to(h.forward(p.Watch(table=table_id), user=5, conn=SPECTATOR))
        h.send(p.ConnClosed(conn="rtA:1"))  # a bot plays for the creator: hand follows hand
        table = h.server.tables[table_id]
        seen: set[int] = set()
        deadline = time.time() + 20
        while len(seen) < 2 and time.time() < deadline:
            for _, frame in await spectator_frames(h, time.time() + 0.2):
                if isinstance(frame, p.View) and frame.cash is not None and frame.cash.hand_no:
                    live = table.state.hand_no
                    assert frame.cash.hand_no < live, f"hand {frame.cash.hand_no} shown during it"
                    seen.add(frame.cash.hand_no)
            if not en.in_hand(table.config, table.state) and any(
                    s is not None and s.stack == 0 for s in table.state.seats):
                break  # busted: bots may lose a whole stack in a hand
        return seen

    async def scenario() -> None:
        async with Harness(tmp_path, hand_pause=0.05) as h:
            h.set_chips(1, 20_000)
            seen: set[int] = set()
            for _ in range(5):  # each table a new deck: a bust in the first hands is not likely twice
                seen = await watched(h)
                if {1, 2} <= seen:
                    break
            assert {1, 2} <= seen, seen

    asyncio.run(scenario())


def test_a_hand_delay_is_for_games_with_hands(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with Harness(tmp_path) as h:
            create = p.CreateTable(game="hearts", seats=4, spectator_delay="hand")
            answer = await h.reply_to(h.forward(create))
            assert isinstance(answer, p.Error) and answer.code == p.E_BAD_TABLE and "seconds" in answer.text
            assert not h.server.tables

    asyncio.run(scenario())
