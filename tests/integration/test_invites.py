"""Issue 15: private tables were guessable (a sequential id seated an uninvited user), and an invited
person who opened the link was refused. Real processes on loopback: invite codes decide who gets in,
a guess is answered exactly as a table that does not exist, and the code survives a game-server crash.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from common import protocol as p
from common.models import TableAction, TableRecord
from realtime.client import FeltClient
from tests.integration.conftest import created_table, run, started_stack, user_factory
from tests.integration.players import UserFactory, connect_player
from tests.integration.stack import Stack


@pytest.fixture(scope="module")
def invite_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from started_stack(tmp_path_factory, "invites", realtime=1, gameservers=1)


@pytest.fixture
def new_user(invite_stack: Stack) -> UserFactory:
    return user_factory(invite_stack)


async def view_of(client: FeltClient, table: str) -> p.View:
    while True:
        msg = await client.recv()
        if isinstance(msg, p.View) and msg.table == table:
            return msg


def entries(stack: Stack, table: str) -> int:
    with stack.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(TableAction)
                                .where(TableAction.table_id == table)).scalar() or 0)


def refusal(answer: p.ServerMessage) -> tuple[str, str, str | None]:
    assert isinstance(answer, p.Error), answer
    return answer.code, answer.text, answer.table


def test_invite_codes_decide_who_gets_into_a_private_table(invite_stack, new_user) -> None:
    stack = invite_stack
    alice, bob, carol, mallory, dave = (new_user(n) for n in ("alice", "bob", "carol", "mallory", "dave"))

    async def scenario() -> None:
        url, origin = stack.realtime_url(0), stack.origin
        owner = await connect_player(url, alice.token()["token"], origin)
        guesser = await connect_player(url, mallory.token()["token"], origin)
        try:
            table = created_table(await owner.request(p.CreateTable(game="crazy_eights", seats=3,
                                                                    public=False)))
            mine = await view_of(owner, table)
            code = mine.invite
            assert code and len(code) >= 22 and not mine.public, mine  # ≥ 128 random bits, URL-safe
            with stack.engine.connect() as conn:
                stored = conn.execute(select(TableRecord.invite).where(TableRecord.id == table)).scalar()
            assert stored == code

            # a guessed id, with no code or a wrong one, is answered as a table that does not exist
            server, _, number = table.partition("-")
            missing = f"{server}-{int(number) + 500:04d}"
            nothing = refusal(await guesser.request(p.Join(table=missing)))
            assert nothing == (p.E_NO_TABLE, f"no table {missing}", missing)
            logged = entries(stack, table)
            wrong = code[:-1] + ("y" if code.endswith("x") else "x")  # one character off, never the code
            for attempt in (p.Join(table=table), p.Join(table=table, invite=wrong),
                            p.Watch(table=table), p.Resume(table=table), p.Leave(table=table),
                            p.Start(table=table), p.Chat(table=table, text="hi"),
                            p.Watch(table=table, invite="")):
                code_, text, where = refusal(await guesser.request(attempt))
                assert (code_, text.replace(table, missing), where) == (*nothing[:2], table), attempt
            tables = await guesser.request(p.ListTables())
            assert isinstance(tables, p.Tables) and table not in [t.id for t in tables.tables]
            assert entries(stack, table) == logged, "a refused request changed the table"

            # the invited watch with the code, then sit down; nobody else's view carries the code
            watcher = await connect_player(url, bob.token()["token"], origin)
            sitter = await connect_player(url, carol.token()["token"], origin)
            try:
                assert isinstance(await watcher.request(p.Watch(table=table, invite=code)), p.Ack)
                seen = await view_of(watcher, table)
                assert seen.seat is None and seen.invite is None and not seen.public
                joined = await watcher.request(p.Join(table=table))  # watching: no code needed again
                assert isinstance(joined, p.Ack) and joined.seat == 1, joined
                joined = await sitter.request(p.Join(table=table, invite=code))
                assert isinstance(joined, p.Ack) and joined.seat == 2, joined
                for client in (watcher, sitter):
                    view = await view_of(client, table)
                    assert view.invite is None and view.seat in (1, 2)
                again = await view_of(owner, table)
                assert again.invite == code
            finally:
                await watcher.close()
                await sitter.close()

            # a crash and a restart: the code comes back with the table, and still decides
            stack.kill("gs-g1")
            stack.start_gameserver("g1")
            late = await connect_player(url, dave.token()["token"], origin)
            try:
                for _ in range(150):  # until the realtime process has the restarted server back
                    answer = await late.request(p.Resume(table=table, invite=code))
                    if not (isinstance(answer, p.Error) and answer.code == p.E_UNAVAILABLE):
                        break
                    await asyncio.sleep(0.1)  # well within the connection's message rate
                assert isinstance(answer, p.Ack) and answer.seat is None, answer
                assert (await view_of(late, table)).players[:3] == [alice.username, bob.username,
                                                                    carol.username]
                code_, text, _ = refusal(await guesser.request(p.Watch(table=table)))
                assert (code_, text) == (p.E_NO_TABLE, f"no table {table}")
                assert isinstance(await owner.request(p.Resume(table=table)), p.Ack)
                assert (await view_of(owner, table)).invite == code
            finally:
                await late.close()
        finally:
            await owner.close()
            await guesser.close()

    run(scenario())


def test_a_public_table_has_no_invite_code(invite_stack, new_user) -> None:
    ann = new_user("ann")

    async def scenario() -> None:
        client = await connect_player(invite_stack.realtime_url(0), ann.token()["token"], invite_stack.origin)
        try:
            table = created_table(await client.request(p.CreateTable(game="hearts", seats=4)))
            view = await view_of(client, table)
            assert view.public and view.invite is None
        finally:
            await client.close()

    run(scenario())
