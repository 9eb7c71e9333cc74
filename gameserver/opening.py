"""A game server's opening of tables and the chip debits of sitting down: `create_table` (its checks,
the new table's id, secret seed and invite code, the creator seated), a cash table's buy-in and a
top-up, each debited from the balance in a transaction of its own before the chips reach the table.

Mixed into `GameServer` (`gameserver.server`) after its other bases: what it uses of the server is
declared here.
"""

from __future__ import annotations

import logging
import secrets
import time
from typing import Any

import msgspec

from common import protocol as p
from common.config import Settings
from common.logs import ids
from common.policy import TablePolicy, policy_problem
from gameserver.cash_table import CashTable
from gameserver.rules.base import Game
from gameserver.sitandgo import options_for
from gameserver.store import Fenced, InsufficientChips, Store, StoreFailed
from gameserver.table import Checkpoint, Refused, Result, Sender, Table

log = logging.getLogger("felt.gameserver")

CLOCK_MIN, CLOCK_MAX = 5.0, 3600.0
UNSAVED = "the table could not be saved; try again"
#: Random bytes of a private table's invite code (144 bits: 24 URL-safe characters).
INVITE_BYTES = 18


class TableOpening:
    """Mixed into `GameServer`: what it needs from the server is declared here."""

    name: str
    settings: Settings
    store: Store
    games: dict[str, Game[Any]]
    tables: dict[str, Table]
    draining: bool
    conn_tables: dict[str, set[str]]
    _next_number: int
    _touched: dict[str, Checkpoint | None]

    def _new_table(self, table_id: str, game: Game[Any], **kw: Any) -> Table:
        raise NotImplementedError

    def default_policy(self) -> TablePolicy:
        raise NotImplementedError

    def _refuse(self, who: Sender, rid: int, req: int | None, code: str, text: str,
                table: str | None = None) -> None: ...
    def _absorb(self, table: Table, result: Result, logged: bool = False) -> None: ...
    def _touch(self, table: Table) -> None: ...
    def _drop_fenced(self) -> None: ...
    def _set_healthy(self, healthy: bool) -> None: ...

    def _flush(self) -> bool:
        raise NotImplementedError

    def _create(self, who: Sender, body: p.CreateTable, rid: int, now: float) -> None:
        game = self.games.get(body.game)
        refusal = None
        if game is None:
            refusal = f"unknown game {body.game!r}; choose one of {', '.join(self.games)}"
        elif not game.min_seats <= body.seats <= game.max_seats:
            refusal = f"{game.title} needs {game.min_seats}–{game.max_seats} seats"
        elif body.clock is not None and not CLOCK_MIN <= body.clock <= CLOCK_MAX:
            refusal = f"the clock must be {CLOCK_MIN:g}–{CLOCK_MAX:g} seconds, or off"
        elif body.spectator_delay == "hand" and game.series != "cash":
            refusal = f"{game.title} has no hands to delay spectators by; give the delay in seconds"
        elif body.policy is not None:
            refusal = policy_problem(body.policy)
        if refusal is not None or game is None:
            return self._refuse(who, rid, body.req, p.E_BAD_TABLE, refusal or "")
        if self.draining:
            return self._refuse(who, rid, body.req, p.E_UNAVAILABLE,
                                "this game server is draining; try again shortly")
        if len(self.tables) >= self.settings.max_tables:
            return self._refuse(who, rid, body.req, p.E_OVERLOADED,
                                "this game server is full; try again shortly")
        try:
            options = game.check_options(body.seats, body.options) if body.sit_and_go is None \
                else options_for(game, body.seats, body.sit_and_go, body.options)
        except ValueError as exc:
            return self._refuse(who, rid, body.req, p.E_BAD_TABLE, str(exc))
        self._next_number += 1
        table_id = f"{self.name}-{self._next_number:04d}"
        seed = secrets.randbits(128)
        invite = "" if body.public else secrets.token_urlsafe(INVITE_BYTES)
        policy = body.policy or self.default_policy()
        table = self._new_table(table_id, game, seats=body.seats, options=options, creator=who.user,
                                seed=seed, clock=body.clock, public=body.public, rated=body.rated,
                                invite=invite,
                                spectator_delay=body.spectator_delay, policy=policy)
        self.tables[table_id] = table
        self._touched[table_id] = None
        self.store.create_table(id=table_id, server=self.name, game=game.name, seats=body.seats,
                                options=options, clock=body.clock, public=body.public,
                                rated=table.config.rated, creator=who.user,
                                seed=str(seed), invite=invite, status="waiting", created=time.time(),
                                spectator_delay=body.spectator_delay, policy=msgspec.structs.asdict(policy))
        self.conn_tables.setdefault(who.conn, set()).add(table_id)
        join = p.Join(table=table_id, seat=0, buy_in=body.buy_in, req=body.req)
        if isinstance(table, CashTable):  # the creator sits down with the minimum buy-in, if they can
            self._cash_join(table, who, join, rid, now, or_watch=True)
        else:
            self._absorb(table, table.handle(who, join, rid, now))

    def _cash_join(self, table: CashTable, who: Sender, body: p.Join, rid: int, now: float,
                   or_watch: bool = False) -> None:
        """Sitting down at a cash table: the buy-in must fit the table's limits, and the debit of the
        balance is committed on its own, at once, before the seat is granted. `or_watch`: a creator who
        cannot pay watches their new table instead."""
        watch = p.Watch(table=table.id, req=body.req)
        try:
            body.buy_in = table.buy_in_for(body, self.store.balance(who.user))
        except Refused as exc:
            if or_watch:
                self._touch(table)
                return self._absorb(table, table.handle(who, watch, rid, now))
            return self._refuse(who, rid, body.req, exc.code, exc.text, table.id)
        if not self._debited(table, who, body, rid, now, quiet=or_watch) and or_watch:
            self._touch(table)
            self._absorb(table, table.handle(who, watch, rid, now))

    def _cash_top_up(self, table: CashTable, who: Sender, body: p.TopUp, rid: int, now: float) -> None:
        """A top-up or rebuy between hands: checked against the table's limits and the balance, and,
        like a buy-in, debited in a transaction of its own before the chips reach the table."""
        try:
            table.top_up_for(who, body, self.store.balance(who.user))
        except Refused as exc:
            return self._refuse(who, rid, body.req, exc.code, exc.text, table.id)
        self._debited(table, who, body, rid, now, what="top-up")

    def _debited(self, table: CashTable, who: Sender, body: p.Join | p.TopUp, rid: int, now: float,
                 what: str = "buy-in", quiet: bool = False) -> bool:
        """Decide `body` and commit its entries with the balance debit they carry, on their own and at
        once. False when the balance cannot pay: nothing changed, and the sender is told (unless
        `quiet`: the caller answers instead)."""
        if not self._flush():  # what came before this request must be durable before it
            self._refuse(who, rid, body.req, p.E_UNAVAILABLE, UNSAVED, table.id)
            return True
        saved = table.checkpoint()
        result = table.handle(who, body, rid, now)
        if not result.log:
            self._touched.setdefault(table.id, saved)
            self._absorb(table, result)
            return True
        try:
            self.store.commit_debit(table.id, result.first_seq, result.log)
        except InsufficientChips as exc:
            table.rollback(saved, now)
            if not quiet:
                self._refuse(who, rid, body.req, p.E_INSUFFICIENT_CHIPS,
                             f"you have {exc.balance} chips; this {what} needs {exc.amount}", table.id)
            return False
        except Fenced:
            table.rollback(saved, now)
            self._drop_fenced()
            self._refuse(who, rid, body.req, p.E_UNAVAILABLE, "the table moved; try again", table.id)
            return True
        except StoreFailed as exc:
            log.error("table %s: a %s could not be written (%s)", table.id, what, exc,
                      extra=ids(table=table.id, user=who.user, req=body.req))
            table.rollback(saved, now)
            self._set_healthy(False)
            self._refuse(who, rid, body.req, p.E_UNAVAILABLE, UNSAVED, table.id)
            return True
        self._absorb(table, result, logged=True)
        return True
