"""Scripted players for the integration tests: connect, authenticate, and play from the views they get."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from tornado.httpclient import HTTPClientError
from tornado.iostream import StreamClosedError
from tornado.websocket import WebSocketClosedError

from common import protocol as p
from common.db import make_engine
from common.models import FinishedGame, House, TableAction, TableRecord, User
from common.views import LegalAction, example_action
from realtime.client import Closed, FeltClient
from tests.integration.stack import Stack, WebUser

#: `make(prefix="player")`: a new registered, logged-in user
UserFactory = Callable[..., WebUser]


async def connect_player(url: str, token: str, origin: str, transport: str = "websocket",
                         source: str | None = None, protocol: int = 1) -> FeltClient:
    client = await FeltClient.connect(url, transport, origin=origin, source=source)
    welcome = await client.auth(token, protocol)
    assert isinstance(welcome, p.Welcome) and welcome.protocol == protocol, welcome
    return client


#: Refusals of a contribution that lost a race with its deal (dealt at the end of the wait): harmless.
LATE_ENTROPY = (p.E_NO_COMMITMENT, p.E_ALREADY_CONTRIBUTED)


#: Which kind of action a scripted player takes when it has several: passive, so games end.
PREFERENCE = ("check", "call", "play", "pass_cards", "draw", "pass", "fold", "bet", "raise")


def choose(legal: list[LegalAction]) -> p.Action:
    """A legal action from a view's own `legal` list, the same way for every game: the first entry of the
    most preferred kind, built with its first choices (first card or cards, first suit, least amount)."""
    entry = min(legal, key=lambda e: PREFERENCE.index(e.type) if e.type in PREFERENCE else len(PREFERENCE))
    return example_action(entry)


def legal_of(msg: p.View) -> list[LegalAction]:
    """What this viewer may do now ([] before the game starts, for spectators, or when not to act)."""
    return msg.view.legal if msg.view is not None else []


async def play_until_over(client: FeltClient, table: str, seat: int,
                          answers: list[p.ServerMessage] | None = None) -> tuple[p.GameOver, list[p.View]]:
    """Answer every view that offers this seat a move; return the game-over and every view seen.
    `answers` gets what answered each move: an `ack`, or at protocol 2 the mover's `view` carrying its
    `req`.

    After acting, views that arrive before the answer were sent before the move was applied (another
    player's simultaneous move, say), so they are recorded but not acted on.
    """
    views: list[p.View] = []
    waiting_for: int | None = None
    while True:
        msg = await client.recv(timeout=30)
        if isinstance(msg, p.GameOver) and msg.table == table:
            return msg, views
        if isinstance(msg, p.Error) and msg.code not in LATE_ENTROPY:
            raise AssertionError(f"seat {seat} got an error: {msg}")
        if isinstance(msg, (p.Ack, p.View)) and waiting_for is not None and msg.req == waiting_for:
            waiting_for = None
            if answers is not None:
                answers.append(msg)
        if not isinstance(msg, p.View) or msg.table != table:
            continue
        views.append(msg)
        await client.contribute(msg)
        legal = legal_of(msg)
        if waiting_for is None and legal:
            waiting_for = client.next_req()
            await client.send(p.Act(table=table, action=choose(legal), seq=msg.seq, req=waiting_for))


async def gather_all(*coros: Any) -> list[Any]:
    return list(await asyncio.gather(*coros))


class ResilientPlayer:
    """A scripted player that survives: on a lost connection it gets a fresh token, reconnects (to any
    realtime server that answers), resumes its seat from the last seq it saw, and plays on.

    `acked` lists the moves the server acknowledged, as (req, action); `paused` stops it from moving
    (to freeze a table before a fault); `last_view` is the newest view of its table.
    """

    def __init__(self, user: Any, urls: list[str], origin: str, transport: str = "websocket",
                 think: float = 0.05) -> None:
        self.user, self.urls, self.origin, self.transport = user, urls, origin, transport
        self.think = think  # seconds before each move, as a person takes: faults land mid-game
        self.client: FeltClient | None = None
        self.table = ""
        self.seat: int | None = None
        self.last_view: p.View | None = None
        self.acked: list[tuple[int, dict[str, Any]]] = []
        self.sent: dict[int, dict[str, Any]] = {}
        self.paused = False
        self.reconnects = 0
        self.over: p.GameOver | None = None
        self.statuses: list[p.TableStatus] = []
        self._req = 1000
        self._waiting_for: int | None = None
        self._rebuying: int | None = None  # the req of a rebuy in flight (a cash table's busted stack)
        self.seen: list[str] = []  # message types received, in order (for failure reports)

    async def connect(self) -> FeltClient:
        token = self.user.token()
        urls = [token["url"], *[u for u in self.urls if u != token["url"]]]
        for url in urls:
            try:
                self.client = await connect_player(url, token["token"], self.origin, self.transport)
                return self.client
            except (TimeoutError, OSError, ConnectionError):
                continue
        raise ConnectionError("no realtime server answered")

    async def resume(self) -> None:
        assert self.client is not None
        last = self.last_view.seq if self.last_view else 0
        self._req += 1
        await self.client.send(p.Resume(table=self.table, last_seq=last, req=self._req))

    async def play(self, until_over: bool = True) -> p.GameOver | None:
        """Play until the game is over (or, at a cash table, until cancelled), reconnecting as needed."""
        while self.over is None or not until_over:
            assert self.client is not None
            try:
                await self._step()
            except (Closed, WebSocketClosedError, StreamClosedError, HTTPClientError, OSError):
                await self.client.close()  # the connection broke (receiving or sending): start again
                self.reconnects += 1
                self._waiting_for = self._rebuying = None  # their answers went with the connection
                await asyncio.sleep(0.2)
                await self.connect()
                await self.resume()
        return self.over

    async def _step(self) -> None:
        """Take one message and answer it."""
        assert self.client is not None
        msg = await self.client.recv(timeout=30)
        self.seen.append(type(msg).__name__)
        if isinstance(msg, p.GameOver) and msg.table == self.table:
            self.over = msg
        elif isinstance(msg, p.TableStatus):
            self.statuses.append(msg)
            if msg.available:
                await self.resume()
                self._waiting_for = None
        elif isinstance(msg, (p.Ack, p.Error)) and msg.req is not None and msg.req == self._rebuying:
            self._rebuying = None  # refused during a hand it was dealt into: tried again on the next view
            if isinstance(msg, p.Error) and msg.code != p.E_ALREADY_STARTED:
                raise AssertionError(f"{self.user.username}: {msg}")
        elif isinstance(msg, p.Ack) and msg.req in self.sent:
            self.acked.append((msg.req, self.sent.pop(msg.req)))
            if msg.req == self._waiting_for:
                self._waiting_for = None
        elif isinstance(msg, p.Error):
            if msg.req == self._waiting_for:
                self._waiting_for = None
                if msg.code == p.E_STALE:  # acted on an old view (twice on one, say): fetch the current one
                    await self.resume()
            if msg.code not in (p.E_STALE, p.E_NOT_YOUR_TURN, p.E_UNAVAILABLE, p.E_TIMEOUT, p.E_GAME_OVER,
                                *LATE_ENTROPY):
                raise AssertionError(f"{self.user.username}: {msg}")
        elif isinstance(msg, p.View) and msg.table == self.table:
            self.last_view = msg
            self.seat = msg.seat
            await self.client.contribute(msg)
            await self._rebuy_if_busted(msg)
            if self._waiting_for is None and not self.paused and legal_of(msg):
                await asyncio.sleep(self.think)
                if self.paused:
                    return  # paused while thinking: the view is answered after a resume
                self._req += 1
                self._waiting_for = self._req
                action = choose(legal_of(msg))
                self.sent[self._req] = p.to_builtins(action)
                await self.client.send(p.Act(table=self.table, action=action, seq=msg.seq, req=self._req))


    async def _rebuy_if_busted(self, view: p.View) -> None:
        """At a cash table, buy in again once the stack is empty, as a person would: a table with one
        funded player deals no more hands. (A sit-and-go has no rebuys: an empty stack is out.)"""
        cash, seat = view.cash, view.seat
        if cash is None or view.sit_and_go is not None or seat is None or cash.table_stacks[seat] > 0 \
                or self._rebuying is not None:
            return
        assert self.client is not None
        self._req += 1
        self._rebuying = self._req
        await self.client.send(p.TopUp(table=self.table, amount=cash.min_buy_in, req=self._req))


# ---- seating and waiting (the fault and topology tests) ----------------------------------------

GAMES = {  # game -> (seats, options): people only, so a frozen table stays frozen
    "crazy_eights": (4, {}),
    "hearts": (4, {"target": 10}),
    "holdem": (3, {"small_blind": 5, "big_blind": 10, "min_buy_in": 100, "max_buy_in": 500}),
}



async def seat_players(stack: Stack, new_user: UserFactory, game: str, transport: str = "websocket",
                       bots: int = 0, options: dict[str, Any] | None = None) -> list[ResilientPlayer]:
    """People at a new table of `game`, started; `bots`: the last seats are bots instead; `options`:
    the table's, over the usual ones."""
    seats, usual = GAMES[game]
    options = {**usual, **(options or {})}
    urls = [stack.realtime_url(i) for i in range(len(stack.realtime_ports))]
    players = [ResilientPlayer(new_user(), urls, stack.origin, transport) for _ in range(seats - bots)]
    for player in players:
        await player.connect()
    host = players[0].client
    assert host is not None
    created = await host.request(p.CreateTable(game=game, seats=seats, options=options))
    assert isinstance(created, p.Ack), created
    for player in players:
        player.table = str(created.table)
    for player in players[1:]:
        assert player.client is not None
        joined = await player.client.request(p.Join(table=player.table, buy_in=200))
        assert isinstance(joined, p.Ack), joined
    for _ in range(bots):
        assert isinstance(await host.request(p.AddBot(table=players[0].table)), p.Ack)
    assert isinstance(await host.request(p.Start(table=players[0].table)), p.Ack)
    return players


async def hang_up(player: ResilientPlayer) -> None:
    """Close the player's current connection (a seated player has one)."""
    assert player.client is not None
    await player.client.close()


async def wait_for(predicate, timeout: float = 30.0, state=lambda: "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting {state()}")
        await asyncio.sleep(0.05)


def finished(stack: Stack | Path, table: str) -> list[Any]:
    """The finished-game records of `table`."""
    engine = database(stack)
    with engine.connect() as conn:
        rows = conn.execute(select(FinishedGame.__table__).where(
            FinishedGame.__table__.c.table_id == table)).all()
    engine.dispose()
    return list(rows)


# ---- what the topology tests check (a Stack's database, or a data directory's) ------------------------


def database(where: Stack | Path) -> Any:
    """An engine on the database of a Stack or of a data directory (dispose it after use)."""
    return where.db() if isinstance(where, Stack) else make_engine(f"sqlite:///{where / 'felt.db'}")


def owner_of(stack: Stack, table: str) -> tuple[str, int]:
    """The game server that owns `table` now, and at which epoch."""
    engine = stack.db()
    with engine.connect() as conn:
        row = conn.execute(select(TableRecord.__table__.c.owner, TableRecord.__table__.c.epoch).where(
            TableRecord.__table__.c.id == table)).one()
    engine.dispose()
    return str(row.owner), int(row.epoch)


def chips_total(stack: Stack | Path) -> int:
    """Every chip there is: on balances, in the house, and at the tables (bought in, not yet cashed out)."""
    engine = database(stack)
    with engine.connect() as conn:
        users = int(conn.execute(select(func.sum(User.__table__.c.chips))).scalar() or 0)
        house = int(conn.execute(select(House.__table__.c.chips)).scalar() or 0)
        entries = conn.execute(select(TableAction.__table__.c.entry)).scalars().all()
    engine.dispose()
    at_tables = 0
    for entry in entries:  # stacks bought in when seated, cashed out when unseated
        if entry.get("t") == "seat":  # a sit-and-go's entry: `paid` (its stack is tournament chips)
            at_tables += int(entry.get("paid", entry.get("stack", 0)))
        elif entry.get("t") == "topped_up":  # from a balance to the table
            at_tables += int(entry["amount"])
        elif entry.get("t") == "unseat":
            at_tables -= int(entry.get("cashout", 0))
        elif entry.get("t") == "sng_end":  # the prizes and the fees paid out
            at_tables -= sum(int(x["amount"]) for x in entry["prizes"]) + int(entry.get("fee", 0))
    return users + house + at_tables


def log_is_exact(stack: Stack | Path, players: list[ResilientPlayer]) -> None:
    """Every acknowledged move is in the table's log exactly once, with no gap or repeat in its seqs."""
    table = players[0].table
    engine = database(stack)
    with engine.connect() as conn:
        rows = conn.execute(select(TableAction.__table__.c.seq, TableAction.__table__.c.entry).where(
            TableAction.__table__.c.table_id == table).order_by(TableAction.__table__.c.seq)).all()
        ids = dict(conn.execute(select(User.__table__.c.username, User.__table__.c.id)).all())
    engine.dispose()
    seqs = [r.seq for r in rows]
    assert seqs == list(range(1, len(seqs) + 1)), "one log, no gap, no repeat"
    moves = Counter((r.entry.get("user"), r.entry.get("req")) for r in rows
                    if r.entry.get("t") == "act" and r.entry.get("req") is not None)
    for pl in players:
        for req, _action in pl.acked:
            assert moves[(ids[pl.user.username], req)] == 1, (pl.user.username, req)


def where_is(player: ResilientPlayer, task: asyncio.Future[Any]) -> dict[str, Any]:
    """What a stuck player was doing, for a failure's report: its last messages, the act it waits on,
    its hand, and whether its playing task ended (and how)."""
    ended = task.done() and not task.cancelled()
    view = player.last_view
    return {"user": player.user.username, "seen": player.seen[-8:], "waiting_for": player._waiting_for,
            "hand": view.cash.hand_no if view and view.cash else None, "seq": view.seq if view else None,
            "ended": repr(task.exception()) if ended else None}


async def play_on(players: list[ResilientPlayer], cash: bool) -> list[asyncio.Future[Any]]:
    return [asyncio.ensure_future(pl.play(until_over=not cash)) for pl in players]


async def finish(players: list[ResilientPlayer], tasks: list[asyncio.Future[Any]], cash: bool) -> None:
    """Matches to their end; a cash table a few more hands, then everybody leaves (chips back)."""
    if cash:
        start = max(pl.last_view.cash.hand_no for pl in players if pl.last_view and pl.last_view.cash)
        await wait_for(lambda: any(pl.last_view and pl.last_view.cash
                                   and pl.last_view.cash.hand_no >= start + 2 for pl in players), timeout=60,
                       state=lambda: [where_is(pl, t) for pl, t in zip(players, tasks, strict=True)])
        for t in tasks:
            t.cancel()
        for pl in players:
            assert pl.client is not None
            await pl.client.send(p.Leave(table=pl.table, req=99_999))
        await asyncio.sleep(0.5)
    else:
        await asyncio.wait_for(asyncio.gather(*tasks), 90)
        assert len({tuple(pl.over.scores) for pl in players if pl.over}) == 1, "one result for everyone"
    for pl in players:
        await hang_up(pl)
