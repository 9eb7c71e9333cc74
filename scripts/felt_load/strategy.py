"""What a simulated player reads from a frame, and which legal move it makes.

`decode(text)` turns a server frame into a lean struct: the fields of `common.protocol`'s messages that a
player needs, with everything else skipped by msgspec without building Python objects (a View's
discards, events, options ...). The shapes mirror `common.protocol`; the smoke test checks that both
decoders agree on real frames.

`choose(game, view, rng)` picks from the view's own `legal` list: for Crazy Eights it rebuilds the part of
the state a player can see and asks the rules' own `bot_move`, then checks the answer is in `legal`; for
other games (and as a fallback) it takes a sensible entry of `legal`.
"""

from __future__ import annotations

import random
from typing import Any, Union

import msgspec

from common import protocol as p
from gameserver.rules import crazy_eights as c8


class _Lean(msgspec.Struct, tag_field="msg", forbid_unknown_fields=False):
    pass


class GameView(msgspec.Struct, forbid_unknown_fields=False):
    legal: list[dict[str, Any]] = []
    turn: int | None = None
    over: bool = False
    hand: list[str] = []
    top: str = ""
    suit: str = ""
    stock: int = 0
    drawn_this_turn: int = 0
    pending_draw: int = 0
    seats: int = 0


class View(_Lean, tag="view"):
    table: str
    seq: int
    status: str = "waiting"
    seat: int | None = None
    game: str = ""
    view: GameView = msgspec.field(default_factory=GameView)


class Ack(_Lean, tag="ack"):
    req: int | None = None
    table: str | None = None
    seat: int | None = None


class Error(_Lean, tag="error"):
    code: str
    text: str = ""
    req: int | None = None
    table: str | None = None


class GameOver(_Lean, tag="game_over"):
    table: str
    seq: int = 0


class Welcome(_Lean, tag="welcome"):
    user: int
    name: str = ""


class TableId(msgspec.Struct, forbid_unknown_fields=False):
    id: str


class Tables(_Lean, tag="tables"):
    req: int | None = None


class LobbyUpdate(_Lean, tag="lobby_update"):
    tables: list[TableId] = []
    removed: list[str] = []


class Pong(_Lean, tag="pong"):
    req: int | None = None


class TableStatus(_Lean, tag="table_status"):
    table: str
    available: bool = True


class ChatLine(_Lean, tag="chat_line"):
    table: str


Frame = Union[View, Ack, Error, GameOver, Welcome, Tables, LobbyUpdate, Pong, TableStatus, ChatLine]
_decoder = msgspec.json.Decoder(Frame)
decode = _decoder.decode


# ---- choosing a move -----------------------------------------------------------------------------

def _action(entry: dict[str, Any]) -> p.Action | None:
    """A protocol action from one `legal` entry (betting entries give ranges: take the minimum)."""
    kind = entry.get("type")
    try:
        if kind == "bet":
            return p.Bet(amount=int(entry.get("amount", entry.get("min", 0))))
        if kind == "raise":
            return p.Raise(to=int(entry.get("to", entry.get("min", 0))))
        if kind == "call":
            return p.Call()
        if kind in ("fold", "check", "draw", "pass"):
            return p.action_from_builtins({"type": kind})
        return p.action_from_builtins(entry)
    except (msgspec.ValidationError, TypeError, ValueError):
        return None


def _crazy_eights(view: GameView, seat: int, rng: random.Random) -> dict[str, Any] | None:
    """The rules' bot_move on the state this seat can see (its hand, the top card, counts)."""
    seats = max(view.seats, seat + 1)
    hands = tuple(tuple(view.hand) if i == seat else () for i in range(seats))
    state = c8.State(seats=seats, hands=hands, stock=("XX",) * view.stock, discards=(view.top,),
                     suit=view.suit, turn=seat, drawn=view.drawn_this_turn, pending=view.pending_draw)
    try:
        return dict(p.to_builtins(c8.bot_move(state, seat, rng)))
    except Exception:
        return None


_PREFERENCE = ("play", "check", "call", "draw", "pass_cards", "bet", "raise", "pass", "fold")


def choose(game: str, view: GameView, seat: int, rng: random.Random) -> p.Action | None:
    """A legal action for `seat` from its own view, or None when it has none."""
    legal = view.legal
    if not legal:
        return None
    if game == "crazy_eights":
        pick = _crazy_eights(view, seat, rng)
        if pick is not None:
            for entry in legal:
                if entry == pick or (entry.get("card") == pick.get("card") and pick.get("card")
                                     and entry.get("suit") == pick.get("suit")):
                    action = _action(entry)
                    if action is not None:
                        return action
    for kind in _PREFERENCE:
        options = [e for e in legal if e.get("type") == kind]
        if options:
            action = _action(options[0] if kind != "play" else rng.choice(options))
            if action is not None:
                return action
    return _action(legal[0])
