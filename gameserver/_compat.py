"""TEMPORARY: the declared game capabilities, until the typed game interface lands in the rules."""

from __future__ import annotations

from typing import Any

from gameserver.rules import crazy_eights, hearts, holdem

for _module in (crazy_eights, hearts, holdem):
    _game: Any = _module.GAME
    type(_game).series = "cash" if _module is holdem else "match"
    type(_game).state_type = _module.State
    if not hasattr(_game, "opening_events"):
        type(_game).opening_events = staticmethod(lambda state: [])

type(holdem.GAME).seat_stacks = staticmethod(lambda state: tuple(state.stacks))
type(holdem.GAME).dealt_in = staticmethod(lambda state: tuple(state.dealt))
type(holdem.GAME).next_button = staticmethod(holdem.next_button)
