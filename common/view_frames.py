"""`View` frames for every viewer of one pass, with what they share encoded once.

A pass's views of a table differ only in five fields: the viewer's `view` of the game, its `seat`, the
`events` as it sees them, a private table's `invite` (its creator's only), and the `req` of the act the
view answers (the mover's, at protocol 2). The rest (players, status,
policy, time banks, fair-deal facts …) is the same for every viewer, so `ViewHead` encodes it once and
each viewer's frame is that JSON object with the viewer's own fields spliced in. The frame decodes to
exactly the `View` built whole (`common.protocol.View`, still the one definition of the message; a test
checks every game's seats and spectators): the same fields and values, only in another order, which JSON
leaves free.
"""

from __future__ import annotations

from typing import Any

import msgspec

from common import protocol as p
from common.views import GameView

_encoder = msgspec.json.Encoder()
#: The fields a viewer's frame has of its own; every other field of `View` is the pass's, shared.
OWN_FIELDS = ("view", "seat", "events", "invite", "req")


class ViewHead:
    """The shared part of one pass's `View` frames: `fields` are `View`'s keyword arguments except
    `OWN_FIELDS`."""

    __slots__ = ("_open",)

    def __init__(self, **fields: Any) -> None:
        clash = [name for name in OWN_FIELDS if name in fields]
        if clash:
            raise TypeError(f"a viewer's own fields are not shared: {clash}")
        head = _encoder.encode(p.View(**fields))  # its own fields at their defaults, so left out
        self._open = head[:-1]  # the object without its closing brace

    def frame(self, view: GameView | None, seat: int | None, events: list[dict[str, Any]],
              invite: str | None, req: int | None = None) -> str:
        """One viewer's frame: what `p.encode_str(p.View(view=…, seat=…, events=…, invite=…, req=…,
        **fields))` gives, but for the order of its fields. A field at its default is left out, as there."""
        own: dict[str, Any] = {}
        if view is not None:
            own["view"] = view
        if seat is not None:
            own["seat"] = seat
        if events:
            own["events"] = events
        if invite is not None:
            own["invite"] = invite
        if req is not None:
            own["req"] = req
        if not own:
            return (self._open + b"}").decode()
        return (self._open + b"," + _encoder.encode(own)[1:]).decode()
