"""Pages of finished games and ratings: my recent games, one game's result and replay, its exports, the
leaderboard of a game and a player's profile. Every page needs a logged-in user.

Owns routes only. The replays are built in the game-server tier (`gameserver.history`) and stored with
the finished game; this tier never looks inside one: `common.history.may_see` says which viewer's
replay a user gets (their seat's, the full one if they sat there and ask, else a spectator's of a public
table, once the table's spectator delay no longer hides it) and `for_viewer` cuts it out. The page's
script (static/js/replay.js) fetches that JSON and steps through it.
"""

from __future__ import annotations

import json
import time
from typing import Any

from flask import Blueprint, Response, abort, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select

from common import history as h
from common import ratings
from common.models import FinishedGame, GamePlayer, TableRecord, User
from frontend import db
from frontend.auth import current_user, find_user, login_required

bp = Blueprint("history", __name__)

GAME_TITLES = {"hearts": "Hearts", "crazy_eights": "Crazy Eights", "holdem": "No-Limit Hold'em"}
RECENT = 50


def _me() -> User:
    user = current_user()
    assert user is not None  # login_required
    return user


def _game(game_id: str, replay: bool = True) -> FinishedGame:
    """The finished game `game_id` (404 if none, or, with `replay`, if its replay is not written)."""
    found = db.session().execute(select(FinishedGame).where(FinishedGame.game_id == game_id)).scalar()
    if found is None or (replay and found.replay is None):
        abort(404)
    return found


def _viewer(game: FinishedGame, full: bool) -> str:
    user = current_user()
    seat = None if user is None else db.session().execute(select(GamePlayer.seat).where(
        GamePlayer.game_id == game.game_id, GamePlayer.user_id == user.id)).scalar()
    viewer = h.may_see(seat, game.public, full)
    if viewer is None:
        abort(404)  # a private table's game is nobody else's business, not even that it exists
    if viewer == h.SPECTATOR and _held_back(game):
        abort(404)  # spectators of a delayed table see a game here no sooner than at the table
    return viewer


def _held_back(game: FinishedGame) -> bool:
    """Whether the spectator delay of `game`'s table still hides it from spectators."""
    s = db.session()
    table = s.get(TableRecord, game.table_id)
    if table is None or not table.spectator_delay:
        return False
    latest = s.execute(select(func.max(FinishedGame.id))
                       .where(FinishedGame.table_id == game.table_id)).scalar()
    return h.held_from_spectators(table.spectator_delay, game.finished, time.time(), latest == game.id)


def _names(user_ids: list[int]) -> dict[int, User]:
    if not user_ids:
        return {}
    users = db.session().execute(select(User).where(User.id.in_(user_ids))).scalars()
    return {u.id: u for u in users}


@bp.get("/history")
@login_required
def recent() -> str:
    me = _me()
    rows = db.session().execute(
        select(GamePlayer, FinishedGame).join(FinishedGame, FinishedGame.game_id == GamePlayer.game_id)
        .where(GamePlayer.user_id == me.id).order_by(GamePlayer.finished.desc()).limit(RECENT)).all()
    games = [{"id": fg.game_id, "game": _title(fg), "finished": fg.finished,
              "place": gp.place, "score": _prize(fg, gp.seat) if _sit_and_go(fg) else gp.score,
              "seats": len(fg.players),
              "others": [p["name"] for p in fg.players if p["seat"] != gp.seat]} for gp, fg in rows]
    return render_template("history.html", games=games)


@bp.get("/history/<game_id>")
@login_required
def game(game_id: str) -> str:
    found = _game(game_id, replay=False)  # a replay is written just after its game's record
    viewer = _viewer(found, full=False)
    sat = viewer != h.SPECTATOR
    tournament = _sit_and_go(found) is not None
    result = [{"seat": p["seat"], "name": p["name"], "bot": p["bot"], "winner": p["seat"] in found.winners,
               "score": f"{score} · {_prize(found, p['seat'])}" if tournament else score}
              for p, score in zip(found.players, found.scores, strict=True)]
    return render_template("replay.html", game=found, title=_title(found), result=result, sat=sat,
                           cash=found.game == "holdem" and not tournament, tournament=tournament,
                           has_replay=found.replay is not None)


def _sit_and_go(game: FinishedGame) -> dict[str, Any] | None:
    """A finished sit-and-go's places and prizes (its hands are games of their own), or None."""
    detail = (game.detail or {}).get("sit_and_go")
    return detail if isinstance(detail, dict) else None


def _title(game: FinishedGame) -> str:
    title = GAME_TITLES.get(game.game, game.game)
    return f"{title} · Sit & Go" if _sit_and_go(game) is not None else title


def _prize(game: FinishedGame, seat: int) -> int:
    places = (_sit_and_go(game) or {}).get("places", [])
    return next((int(p.get("prize", 0)) for p in places if p.get("seat") == seat), 0)


@bp.get("/history/<game_id>/replay.json")
def replay(game_id: str) -> ResponseReturnValue:
    if current_user() is None:
        return Response(json.dumps({"error": {"code": "login_required", "text": "log in first"}}), 401,
                        mimetype="application/json")
    found = _game(game_id)
    viewer = _viewer(found, full=request.args.get("full") == "1")
    assert found.replay is not None
    body = h.for_viewer(h.unpack(found.replay), viewer)
    return Response(json.dumps(body, separators=(",", ":")), mimetype="application/json",
                    headers={"Cache-Control": "private, no-store"})


@bp.get("/history/<game_id>/export.<fmt>")
@login_required
def export(game_id: str, fmt: str) -> ResponseReturnValue:
    """The game as a file: PHH (Hold'em) or the JSON replay, as much as this user may see (`?full=1`:
    every card, for the players who sat at it)."""
    found = _game(game_id)
    viewer = _viewer(found, full=request.args.get("full") == "1")
    assert found.replay is not None
    stored = h.unpack(found.replay)
    name = game_id.replace(":", "-") + ("" if viewer == h.FULL else f"-{viewer}")
    private = {"Cache-Control": "private, no-store"}
    if fmt == "phh":
        text = h.phh_for(stored, viewer)
        if text is None:
            abort(404)
        return Response(text, mimetype="text/plain",
                        headers={"Content-Disposition": f'attachment; filename="{name}.phh"', **private})
    if fmt == "json":
        body = json.dumps(h.for_viewer(stored, viewer), indent=1)
        return Response(body, mimetype="application/json",
                        headers={"Content-Disposition": f'attachment; filename="{name}.json"', **private})
    abort(404)


@bp.get("/leaderboard/<game>")
@login_required
def leaderboard(game: str) -> str:
    if game not in GAME_TITLES:
        abort(404)
    rows: list[dict[str, Any]] = []
    if game in ratings.RATED_GAMES:
        with db.database().engine.connect() as conn:
            rows = ratings.leaderboard(conn, game)
        users = _names([r["user_id"] for r in rows])
        rows = [dict(r, user=users[r["user_id"]]) for r in rows if r["user_id"] in users]
    return render_template("leaderboard.html", game=game, title=GAME_TITLES[game], rows=rows,
                           rated=game in ratings.RATED_GAMES, games=GAME_TITLES)


@bp.get("/player/<name>")
@login_required
def player(name: str) -> str:
    user = find_user(db.session(), name)
    if user is None:
        abort(404)
    with db.database().engine.connect() as conn:
        figures = ratings.profile(conn, user.id)
    return render_template("player.html", player=user, figures=figures, games=GAME_TITLES)
