"""What a simulated player reads from a frame, and which legal move it makes.

`decode(text)` turns a server frame into a struct. Every message but `view` is `common.protocol`'s own;
a `view` is decoded leanly, because it is most of the traffic: only the fields a player needs, with its
`legal` list typed by `common.views.LegalAction`, and everything else (the rest of the game's view, the
events) skipped by msgspec without building Python objects. A test checks that this decoder and
`common.protocol`'s agree on real frames of every game.

`choose(legal, rng)` picks from the view's own `legal` list the same way for every game: an entry of the
most preferred kind that is offered, built with `common.views.example_action` (random cards, suit and
amount within the entry's choices).
"""

from __future__ import annotations

import random

import msgspec

from common import protocol as p
from common.views import LegalAction, example_action


class GameView(msgspec.Struct, forbid_unknown_fields=False):
    """The part of any game's view (`common.views.GameView`) that a player acts on."""

    legal: list[LegalAction] = []


class View(msgspec.Struct, tag_field="msg", tag="view", forbid_unknown_fields=False):
    """`common.protocol.View`, leanly: `view` is None before the game starts."""

    table: str
    seq: int
    status: str = "waiting"
    seat: int | None = None
    game: str = ""
    view: GameView | None = None
    req: int | None = None  # protocol 2: the mover's act this view answers

    @property
    def legal(self) -> list[LegalAction]:
        """What this viewer may do now ([] before the game starts or when it is not to act)."""
        return self.view.legal if self.view is not None else []


Frame = (View | p.Ack | p.Error | p.GameOver | p.Welcome | p.Tables | p.LobbyUpdate | p.Pong | p.TableStatus
         | p.ChatLine)
_decoder: msgspec.json.Decoder[Frame] = msgspec.json.Decoder(Frame)
decode = _decoder.decode


# ---- choosing a move -----------------------------------------------------------------------------

#: The kinds of action a simulated player prefers, most first: it plays on and games end.
PREFERENCE = ("play", "check", "call", "draw", "pass_cards", "bet", "raise", "pass", "fold")
_RANK = {kind: i for i, kind in enumerate(PREFERENCE)}


def choose(legal: list[LegalAction], rng: random.Random) -> p.Action | None:
    """A legal action from `legal` (None when it is empty): a random entry of the most preferred kind."""
    if not legal:
        return None
    best = min(_RANK.get(entry.type, len(_RANK)) for entry in legal)
    options = [entry for entry in legal if _RANK.get(entry.type, len(_RANK)) == best]
    return example_action(options[0] if len(options) == 1 else rng.choice(options), rng)
