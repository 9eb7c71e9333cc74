"""`GET /api/tables/<table_id>/hands`: the last finished hands (Hold'em) or games (Hearts, Crazy Eights)
of one table, newest first, for the table's hand-history panel.

Owns the route only. Each game is summarized (`common.hand_summary`) from the replay this user may see
(`common.history.may_see` and `for_viewer`): the seat they sat in, else a spectator's of a public table;
never the stored or the full form, so nothing leaves that this user was not shown. A private table this
user never sat at in a finished game, did not create and has no invite code for (`?invite=`, as its
link carries) answers 404, as a table that does not exist; with the code, the list has the games they
sat in (none, for one who only watches). A game whose
replay is not written yet (it follows the game's record by a moment) is listed as `pending`. At a table
with a spectator delay a spectator's list holds back what the delay still hides: the games that ended
less than its seconds ago, or (a delay of one hand) the table's latest game.

Summaries of finished games never change: they are kept in a small per-process cache by game and viewer.
"""

from __future__ import annotations

import hmac
import threading
import time
from collections import OrderedDict
from typing import Any

from flask import Blueprint, Response, request
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from common import hand_summary, history
from common.models import FinishedGame, GamePlayer, TableRecord
from frontend import db
from frontend.auth import current_user
from frontend.responses import json_response

bp = Blueprint("hands", __name__)

#: finished games listed
HANDS = 20
_CACHED = 512


class _Summaries:
    """Summaries by (game id, viewer), least recently used dropped first."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[tuple[str, str], dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> dict[str, Any] | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: tuple[str, str], value: dict[str, Any]) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


_summaries = _Summaries(_CACHED)


def _json(body: dict[str, Any], status: int = 200) -> Response:
    return json_response(body, status, cache="private, no-store")


def _not_found() -> Response:
    return _json({"error": {"code": "no_table", "text": "There is no such table."}}, 404)


@bp.get("/api/tables/<table_id>/hands")
def hands(table_id: str) -> Response:
    user = current_user()
    if user is None:
        text = "Log in first: this needs a logged-in user."
        return _json({"error": {"code": "login_required", "text": text}}, 401)
    s = db.session()
    table = s.get(TableRecord, table_id)
    if table is None:
        return _not_found()
    mine = select(GamePlayer.game_id, GamePlayer.seat).join(
        FinishedGame, FinishedGame.game_id == GamePlayer.game_id).where(
        FinishedGame.table_id == table_id, GamePlayer.user_id == user.id)
    seats: dict[str, int] = {gid: seat for gid, seat in s.execute(mine)}
    invite = request.args.get("invite", "")
    invited = bool(invite and table.invite) and hmac.compare_digest(invite.encode(), table.invite.encode())
    if not table.public and not seats and table.creator != user.id and not invited:
        return _not_found()  # a private table is nobody else's business, not even that it exists
    earlier = aliased(FinishedGame)
    number = (select(func.count()).where(earlier.table_id == table_id, earlier.id <= FinishedGame.id)
              .scalar_subquery())
    query = (select(FinishedGame.game_id, FinishedGame.public, FinishedGame.finished, FinishedGame.game,
                    FinishedGame.replay.is_not(None), number)
             .where(FinishedGame.table_id == table_id, FinishedGame.game_id.is_not(None)))
    if not table.public:
        query = query.where(FinishedGame.game_id.in_(list(seats)))
    rows = s.execute(query.order_by(FinishedGame.id.desc()).limit(HANDS + 1)).all()
    delay = table.spectator_delay
    latest = rows[0][-1] if rows else 0
    now = time.time()
    out: list[dict[str, Any]] = []
    for game_id, public, finished, game, written, n in rows:
        viewer = history.may_see(seats.get(game_id), bool(public), full=False)
        if viewer is None or len(out) == HANDS:
            continue
        if viewer == history.SPECTATOR and history.held_from_spectators(delay, finished, now, n == latest):
            continue  # not shown to spectators yet
        if not written:
            out.append({"game_id": game_id, "game": game, "number": n, "finished": finished, "pending": True})
            continue
        key = (game_id, viewer)
        summary = _summaries.get(key)
        if summary is None:
            packed = s.execute(select(FinishedGame.replay).where(FinishedGame.game_id == game_id)).scalar()
            assert packed is not None  # written, and a replay is never taken back
            replay = history.for_viewer(history.unpack(packed), viewer, fair=False)
            summary = hand_summary.summarize(replay, number=n, finished=finished)
            _summaries.put(key, summary)
        out.append(summary)
    return _json({"table": table_id, "hands": out})
