"""Hypothesis throws random and mutated requests at a game server's real request handler, with the real
store: encoded `Forward`s (random bodies for the tables it hosts and for made-up ones; random users,
connections and names; the bytes of valid ones mutated) go through `GameServer._on_message` and the
pass's commit, as the socket loop does, with a stub in place of the ZeroMQ socket.

Properties: nothing raises or hangs; every frame sent decodes as a server message and carries no
traceback; no error is `internal` and nothing is logged at ERROR; a refused request (answered `error`)
changes nothing: not a table's state, seats or spectators, not the log, not a chip; and chips are
conserved whatever is accepted.

The normal run tries a few dozen requests per property; the soak is
`FELT_FUZZ_EXAMPLES=5000 .venv/bin/python -m pytest tests/unit/gameserver/test_server_fuzz.py`.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, insert, select

from common import protocol as p
from common.config import Settings
from common.models import House, TableAction, User
from common.schema import open_db
from gameserver.rules import games
from gameserver.server import GameServer
from gameserver.store import Store
from tests import dbs

EXAMPLES = int(os.environ.get("FELT_FUZZ_EXAMPLES", "40"))
PEER = b"rt1"
USERS = range(1, 9)
CHIPS = 100_000
#: A frame the server sent: its recipients, the frame decoded, and the rid it answers (None: news).
Sent = tuple[list[str], p.ServerMessage, int | None]


class StubSocket:
    """Takes the ROUTER socket's place: keeps what the server sends."""

    closed = False

    def __init__(self) -> None:
        self.sent: list[list[bytes]] = []

    def send_multipart(self, frames: list[bytes], flags: int = 0) -> None:
        self.sent.append(frames)

    def getsockopt(self, option: int) -> int:
        return 0


class Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@dataclass
class World:
    server: GameServer
    sock: StubSocket
    engine: Any
    tables: list[str] = field(default_factory=list)
    rid: int = 0
    errors: Errors = field(default_factory=Errors)

    def feed(self, payload: bytes) -> list[Sent]:
        """One message through the handler and the pass's commit; every frame sent (recipients, frame,
        the rid it answers)."""
        self.sock.sent.clear()
        started = time.monotonic()
        self.server._on_message(PEER, None, payload, time.time())
        self.server._commit_and_send()
        assert time.monotonic() - started < 5, "a request took the server more than 5 s"
        out: list[Sent] = []
        for frames in self.sock.sent:
            for msg in p.decode_parts(frames[1:]):
                if isinstance(msg, p.Deliver):
                    assert "Traceback" not in msg.frame and 'File "' not in msg.frame, msg.frame
                    out.append((msg.conns, p.decode_server(msg.frame), msg.rid))
        return out

    def forward(self, body: Any, user: int, conn: str | None = None) -> list[Sent]:
        self.rid += 1
        msg = p.Forward(conn=conn or f"rt1:{user}", user=user, name=f"u{user}", rid=self.rid, body=body)
        return self.feed(p.encode(msg))

    def state(self) -> Any:
        """What a refused request must leave alone: each table's state, seats' connections and spectators,
        the log and every chip."""
        with self.engine.connect() as conn:
            log = int(conn.execute(select(func.count()).select_from(TableAction)).scalar() or 0)
            chips = dict(conn.execute(select(User.__table__.c.id, User.__table__.c.chips)).all())
            house = conn.execute(select(House.__table__.c.chips)).scalar()
        tables = {tid: (msgspec.json.encode(t.state), dict(t.conns), sorted(t.spectators))
                  for tid, t in self.server.tables.items()}
        return tables, log, chips, house

    def chips_total(self) -> int:
        """Every chip: on balances, in the house, and at tables (bought in by seat entries, not yet cashed
        out by unseat entries)."""
        with self.engine.connect() as conn:
            users = int(conn.execute(select(func.sum(User.__table__.c.chips))).scalar() or 0)
            house = int(conn.execute(select(House.__table__.c.chips)).scalar() or 0)
            entries = conn.execute(select(TableAction.__table__.c.entry)).scalars().all()
        at_tables = sum(int(x.get("stack", 0)) for x in entries if x.get("t") == "seat")
        at_tables -= sum(int(x.get("cashout", 0)) for x in entries if x.get("t") == "unseat")
        return users + house + at_tables


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = Path(tmp_path_factory.mktemp("fuzz-gameserver"))
    url = dbs.database_url(tmp)
    engine = open_db(url)
    with engine.begin() as conn:
        conn.execute(insert(User), [{"id": u, "username": f"u{u}", "display_name": f"u{u}",
                                     "password_hash": "x", "chips": CHIPS} for u in USERS])
    server = GameServer(Settings(data_dir=str(tmp), database_url=url, bot_delay=3600.0), "g1",
                        "inproc://fuzz", Store(engine), games())
    server.recover()
    sock = StubSocket()
    server.sock = sock  # type: ignore[assignment]  # a stub ROUTER socket
    w = World(server, sock, engine)
    logging.getLogger("felt").addHandler(w.errors)

    def create(user: int, **kw: Any) -> str:
        replies = [m for _, m, rid in w.forward(p.CreateTable(req=1, **kw), user) if rid == w.rid]
        assert isinstance(replies[0], p.Ack) and replies[0].table, replies
        return replies[0].table

    eights = create(1, game="crazy_eights", seats=2)
    w.forward(p.Join(table=eights, req=2), 2)
    w.forward(p.Start(table=eights, req=3), 1)
    holdem = create(3, game="holdem", seats=3)
    w.forward(p.Join(table=holdem, req=2), 4)
    w.forward(p.Start(table=holdem, req=3), 3)
    hearts = create(5, game="hearts", seats=4, public=False)  # private, waiting
    w.tables = [eights, holdem, hearts]
    w.forward(p.Watch(table=eights, req=4), 6)
    try:
        yield w
    finally:
        logging.getLogger("felt").removeHandler(w.errors)
        engine.dispose()


# ---- what to throw ---------------------------------------------------------------------------------

cards = st.sampled_from(["2C", "TD", "QS", "AH", "8S", "KD", "XX", ""])
actions = st.one_of(
    st.builds(p.Play, card=cards, suit=st.none() | st.sampled_from(["C", "D", "H", "S", "Z"])),
    st.builds(p.Draw), st.builds(p.PassTurn), st.builds(p.Fold), st.builds(p.Check), st.builds(p.Call),
    st.builds(p.PassCards, cards=st.lists(cards, max_size=4)),
    st.builds(p.Bet, amount=st.integers(0, 10**12)), st.builds(p.Raise, to=st.integers(0, 10**12)))


def bodies(world_tables: list[str]) -> st.SearchStrategy[Any]:
    tables = st.sampled_from(world_tables) | st.sampled_from(["g1-9999", "g2-0001", "", "g1-0001x"])
    seats = st.none() | st.integers(0, 63)
    req = st.none() | st.integers(-(2**53), 2**53)
    invite = st.none() | st.text(max_size=30)
    return st.one_of(
        st.builds(p.Join, table=tables, seat=seats, buy_in=st.none() | st.integers(0, 10**12), invite=invite,
                  req=req),
        st.builds(p.Leave, table=tables, req=req),
        st.builds(p.Watch, table=tables, invite=invite, req=req),
        st.builds(p.Start, table=tables, req=req),
        st.builds(p.AddBot, table=tables, seat=seats, req=req),
        st.builds(p.Act, table=tables, action=actions, seq=st.none() | st.integers(0, 500), req=req),
        st.builds(p.Chat, table=tables, text=st.sampled_from(["gg", "", " ", "x" * 400]), req=req),
        st.builds(p.Resume, table=tables, last_seq=st.integers(0, 500), invite=invite, req=req),
        st.builds(p.ListTables, req=req),
        st.builds(p.CreateTable, game=st.sampled_from(["hearts", "holdem", "crazy_eights", "go"]),
                  seats=st.integers(1, 64), options=st.dictionaries(
                      st.sampled_from(["target", "big_blind", "min_buy_in", "queen_skips", "x"]),
                      st.integers(-5, 10**10) | st.booleans(), max_size=3),
                  clock=st.none() | st.floats(0, 86400), public=st.booleans(), req=req))


def refused_changes_nothing(world: World, answers: list[Sent], before: Any) -> None:
    mine = [m for _, m, rid in answers if rid == world.rid]
    for _, msg, _ in answers:
        assert not (isinstance(msg, p.Error) and msg.code == p.E_INTERNAL), msg
    assert world.errors.records == [], [r.getMessage() for r in world.errors.records]
    if mine and all(isinstance(m, p.Error) for m in mine):
        assert world.state() == before, f"refused ({mine[0]}) yet something changed"


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_requests_are_answered_and_a_refusal_changes_nothing(world: World,
                                                                    data: st.DataObject) -> None:
    total = world.chips_total()
    body = data.draw(bodies(world.tables))
    user = data.draw(st.sampled_from([*USERS, 99]))
    conn = data.draw(st.none() | st.sampled_from(["rt1:1", "rt1:2", "rt1:77", "rt2:1"]))
    before = world.state()
    answers = world.forward(body, user, conn)
    refused_changes_nothing(world, answers, before)
    assert world.chips_total() == total, "chips were made or lost"


VALID = [
    p.Forward(conn="rt1:1", user=1, name="u1", rid=1, body=p.Act(table="g1-0001", action=p.Draw(), seq=3)),
    p.Forward(conn="rt1:6", user=6, name="u6", rid=1, body=p.Join(table="g1-0003", invite="abc")),
    p.Forward(conn="rt1:4", user=4, name="u4", rid=1, body=p.Act(table="g1-0002", action=p.Raise(to=300))),
    p.Forward(conn="rt1:2", user=2, name="u2", rid=1, body=p.Chat(table="g1-0001", text="hi", req=5)),
    p.ConnClosed(conn="rt1:9"),
]


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(VALID), st.integers(0, 400), st.integers(0, 8), st.binary(max_size=12))
def test_mutated_messages_are_dropped_or_handled(world: World, msg: Any, at: int, cut: int,
                                                 insert_: bytes) -> None:
    total = world.chips_total()
    raw = p.encode(msg)
    at %= len(raw) + 1
    mutated = raw[:at] + insert_ + raw[at + cut:]
    world.rid += 1
    before = world.state()
    answers = world.feed(mutated)
    if isinstance(msg, p.Forward):
        try:
            decoded = p.decode_internal(mutated)
        except p.ProtocolError:
            assert answers == [] and world.state() == before, "an undecodable message changed something"
            return
        if isinstance(decoded, p.Forward):
            world.rid = decoded.rid
    refused_changes_nothing(world, answers, before)
    assert world.chips_total() == total, "chips were made or lost"
