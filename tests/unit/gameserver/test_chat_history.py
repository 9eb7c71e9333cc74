"""A table's recent chat reaches whoever opens the table later: a watcher, a player resuming from a new
connection (a reload), and after the game server restarts; a line the database did not take is never
in it."""

from __future__ import annotations

import asyncio
from pathlib import Path

from common import protocol as p
from gameserver.chat import CHAT_HISTORY
from tests.unit.gameserver.frames import acked_table
from tests.unit.gameserver.harness import Harness, unwritable


async def history_for(h: Harness, rid: int, conn: str) -> list[str] | None:
    """The texts of the `chat_history` frame sent to `conn` with request `rid`'s answer (None: none).

    The game server sends a pass's frames for a realtime process as one multipart: the history, if
    any, comes in the same one as the answer, after it."""
    while True:
        msg = await h.recv(timeout=10)
        if isinstance(msg, p.Deliver) and msg.rid == rid:
            break
        assert not (isinstance(msg, p.Deliver) and isinstance(p.decode_server(msg.frame), p.ChatHistory)
                    and conn in msg.conns), "the history comes after the request's answer"
    while h.parts:
        msg = await h.recv()
        if isinstance(msg, p.Deliver) and conn in msg.conns:
            frame = p.decode_server(msg.frame)
            if isinstance(frame, p.ChatHistory):
                return [line.text for line in frame.lines]
    return None


async def say(h: Harness, table: str, text: str, user: int = 1) -> None:
    answer = await h.reply_to(h.forward(p.Chat(table=table, text=text), user=user, conn=f"rtA:{user}"))
    assert isinstance(answer, p.Ack), answer


def test_a_watcher_and_a_reloaded_player_get_the_recent_chat_in_order(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with Harness(tmp_path, chat_rate=1000.0) as h:
            table = acked_table(await h.reply_to(h.forward(p.CreateTable(game="crazy_eights", seats=2))))
            rid = h.forward(p.Watch(table=table), user=3, conn="rtA:3")
            assert await history_for(h, rid, "rtA:3") is None  # nothing said yet: no frame
            for i in range(3):
                await say(h, table, f"line {i}")
            await say(h, table, "from the rail", user=3)
            rid = h.forward(p.Watch(table=table), user=4, conn="rtA:4")
            assert await history_for(h, rid, "rtA:4") == ["line 0", "line 1", "line 2", "from the rail"]
            # the seated creator reloads: a new connection resumes the table
            rid = h.forward(p.Resume(table=table), user=1, conn="rtA:11")
            assert await history_for(h, rid, "rtA:11") == ["line 0", "line 1", "line 2", "from the rail"]
            # a connection already at the table is not sent it again
            rid = h.forward(p.Resume(table=table), user=1, conn="rtA:11")
            assert await history_for(h, rid, "rtA:11") is None

    asyncio.run(scenario())


def test_the_history_keeps_the_last_lines_and_survives_a_restart(tmp_path: Path) -> None:
    async def first() -> str:
        async with Harness(tmp_path, chat_rate=1000.0) as h:
            table = acked_table(await h.reply_to(h.forward(p.CreateTable(game="crazy_eights", seats=2))))
            for i in range(CHAT_HISTORY + 5):
                await say(h, table, f"n{i}")
            return table

    async def second(table: str) -> None:
        async with Harness(tmp_path) as h:
            rid = h.forward(p.Watch(table=table), user=6, conn="rtA:6")
            assert await history_for(h, rid, "rtA:6") == [f"n{i}" for i in range(5, CHAT_HISTORY + 5)]

    asyncio.run(second(asyncio.run(first())))


def test_a_line_the_database_refused_is_not_in_the_history(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with Harness(tmp_path, chat_rate=1000.0) as h:
            table = acked_table(await h.reply_to(h.forward(p.CreateTable(game="crazy_eights", seats=2))))
            await say(h, table, "kept")
            with unwritable(tmp_path):
                refused = await h.reply_to(h.forward(p.Chat(table=table, text="lost")))
                assert isinstance(refused, p.Error) and refused.code == p.E_UNAVAILABLE
            for _ in range(100):  # the server probes with a real write each heartbeat
                h.server.heartbeat_round(h.server.clock())
                if h.server.healthy:
                    break
                await asyncio.sleep(0.01)
            rid = h.forward(p.Watch(table=table), user=7, conn="rtA:7")
            assert await history_for(h, rid, "rtA:7") == ["kept"]

    asyncio.run(scenario())
