"""Hearts and Hold'em through the real tiers, with scripted clients and bots; spectators and chat."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import select

from common import protocol as p
from common.models import FinishedGame, User
from common.views import HeartsView
from tests.integration.conftest import acked, created_table, run
from tests.integration.players import choose, connect_player, legal_of, play_until_over


def db(stack):
    return stack.engine


def test_hearts_with_a_person_two_bots_and_a_scripted_player(stack, new_user) -> None:
    ann, bob, eve = new_user(), new_user(), new_user()

    async def scenario() -> tuple[str, p.GameOver, list[p.View]]:
        a = await connect_player(stack.realtime_url(0), ann.token()["token"], stack.origin)
        b = await connect_player(stack.realtime_url(1), bob.token()["token"], stack.origin, "xhr")
        watcher = await connect_player(stack.realtime_url(1), eve.token()["token"], stack.origin)
        try:
            table = created_table(await a.request(p.CreateTable(game="hearts", seats=4,
                                                                options={"target": 15})))
            assert acked(await b.request(p.Join(table=table))).seat == 1
            for _ in range(2):
                assert isinstance(await a.request(p.AddBot(table=table)), p.Ack)
            assert isinstance(await watcher.request(p.Watch(table=table)), p.Ack)
            said = await watcher.request(p.Chat(table=table, text="  good luck <b>all</b>  "))
            assert isinstance(said, p.Ack)
            assert isinstance(await a.request(p.Start(table=table)), p.Ack)
            (over, _), _ = await asyncio.gather(play_until_over(a, table, 0), play_until_over(b, table, 1))
            seen: list[p.View] = []
            while True:
                msg = await watcher.recv(timeout=30)
                if isinstance(msg, p.View):
                    seen.append(msg)
                if isinstance(msg, p.ChatLine):
                    assert msg.text == "good luck <b>all</b>" and msg.name == eve.username
                if isinstance(msg, p.GameOver):
                    return table, over, seen
        finally:
            for c in (a, b, watcher):
                await c.close()

    table, over, spectator_views = run(scenario())
    assert len(over.scores) == 4 and min(over.scores) == over.scores[over.winners[0]]
    assert spectator_views
    for v in spectator_views:  # Hearts: a spectator's view has no hand
        assert v.seat is None and (v.view is None or (isinstance(v.view, HeartsView) and v.view.hand is None))
    with db(stack).connect() as conn:
        record = conn.execute(select(FinishedGame.__table__).where(
            FinishedGame.__table__.c.table_id == table)).one()
    assert record.game == "hearts" and record.scores == over.scores


def test_holdem_cash_table_buy_in_hands_and_cash_out(stack, new_user) -> None:
    ann, bob = new_user(), new_user()
    engine = db(stack)

    def balances() -> int:
        with engine.connect() as conn:
            return int(sum(conn.execute(select(User.__table__.c.chips).where(
                User.__table__.c.username.in_([ann.username, bob.username]))).scalars()))

    before = balances()

    async def play_hands(client, table: str, seat: int, hands: int) -> None:
        over = 0
        while over < hands:
            msg = await client.recv(timeout=30)
            if isinstance(msg, p.GameOver):
                over += 1
            elif isinstance(msg, p.View):
                assert msg.seat == seat, "a player only ever gets their own seat's view"
                if legal_of(msg):
                    await client.send(p.Act(table=table, action=choose(legal_of(msg)), seq=msg.seq))
            elif isinstance(msg, p.Error):
                assert msg.code == p.E_STALE, msg  # a view overtaken by the next hand: harmless

    async def scenario() -> str:
        a = await connect_player(stack.realtime_url(0), ann.token()["token"], stack.origin)
        b = await connect_player(stack.realtime_url(1), bob.token()["token"], stack.origin)
        try:
            # The bot sits with the minimum (100) and the people only check or call, so no one loses
            # more than 100 a hand: with more than that each, the second hand is always dealt (at 100,
            # the bot and the creator could both lose everything to Bob in the first).
            created = acked(await a.request(p.CreateTable(game="holdem", seats=3, buy_in=300, options={
                "small_blind": 5, "big_blind": 10, "min_buy_in": 100, "max_buy_in": 1000})))
            table = str(created.table)
            assert created.seat == 0
            too_much = await b.request(p.Join(table=table, buy_in=5000))
            assert isinstance(too_much, p.Error) and too_much.code == p.E_BAD_FIELD
            assert acked(await b.request(p.Join(table=table, buy_in=400))).seat == 1
            assert isinstance(await a.request(p.AddBot(table=table)), p.Ack)
            assert isinstance(await a.request(p.Start(table=table)), p.Ack)
            await asyncio.gather(play_hands(a, table, 0, 2), play_hands(b, table, 1, 2))
            for client in (a, b):
                assert isinstance(await client.request(p.Leave(table=table)), p.Ack)
            return table
        finally:
            await a.close()
            await b.close()

    table = run(scenario())
    # whoever was still in a hand stands up when it ends (bots finish it); then all chips are home
    deadline = time.monotonic() + 30
    while True:
        with engine.connect() as conn:
            hands = conn.execute(select(FinishedGame.__table__).where(
                FinishedGame.__table__.c.table_id == table)).all()
        human_net = sum(h.scores[pl["seat"]] for h in hands for pl in h.players if not pl["bot"])
        if balances() == before + human_net or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert balances() == before + human_net, "chips are conserved between balances and the table"
    assert len(hands) >= 2 and all(h.game == "holdem" and "board" in h.detail for h in hands)
    assert all(sum(h.scores) == 0 for h in hands)


def test_one_frame_buying_in_on_two_game_servers_with_the_same_chips(stack, new_user) -> None:
    """The frame that once jammed a game server: two joins, on g1 and g2, each for the whole balance.
    One is seated, the other refused with `insufficient_chips`; both servers carry on serving."""
    ann, eve = new_user(), new_user()
    engine = db(stack)
    users = User.__table__

    def chips(user) -> int:
        with engine.connect() as conn:
            query = select(users.c.chips).where(users.c.username == user.username)
            return int(conn.execute(query).scalar_one())

    whole = chips(eve)
    options = {"small_blind": 5, "big_blind": 10, "min_buy_in": 100, "max_buy_in": whole}

    async def scenario() -> None:
        a = await connect_player(stack.realtime_url(0), ann.token()["token"], stack.origin)
        v = await connect_player(stack.realtime_url(1), eve.token()["token"], stack.origin)
        try:
            # a new table goes to the server with the fewest tables, as the last heartbeat told
            by_server: dict[str, str] = {}
            for _ in range(20):
                table = created_table(await a.request(p.CreateTable(game="holdem", seats=3, options=options)))
                by_server.setdefault(table.split("-")[0], table)
                if len(by_server) == 2:
                    break
                await asyncio.sleep(0.35)  # one heartbeat (0.3 s here), so the counts are current
            assert sorted(by_server) == ["g1", "g2"], by_server
            tables = list(by_server.values())
            joins = [p.Join(table=t, buy_in=whole, req=100 + i) for i, t in enumerate(tables)]
            await v.send_together([p.encode_str(j) for j in joins])
            answers: dict[int, p.ServerMessage] = {}
            while len(answers) < 2:
                msg = await v.recv(timeout=10)
                req = getattr(msg, "req", None)
                if isinstance(msg, (p.Ack, p.Error)) and req in (100, 101):
                    answers[req] = msg
            seated = [t for j, t in zip(joins, tables, strict=True) if isinstance(answers[j.req or 0], p.Ack)]
            refused = [m for m in answers.values() if isinstance(m, p.Error)]
            assert len(seated) == 1 and len(refused) == 1, answers
            assert refused[0].code == p.E_INSUFFICIENT_CHIPS, refused[0]
            # nothing else on either server is affected: requests at both tables are served
            for table in tables:
                assert isinstance(await a.request(p.Chat(table=table, text="still serving")), p.Ack)
            assert isinstance(await a.request(p.AddBot(table=seated[0])), p.Ack)
            assert isinstance(await v.request(p.Leave(table=seated[0])), p.Ack)
        finally:
            await a.close()
            await v.close()

    run(scenario())
    deadline = time.monotonic() + 10
    while chips(eve) != whole and time.monotonic() < deadline:  # the cash-out is written with the pass
        time.sleep(0.05)
    assert chips(eve) == whole, "the whole balance came back; nothing was debited twice"
