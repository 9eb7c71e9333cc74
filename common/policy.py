"""A table's policy for time and absence: one typed struct, chosen at create, shown in every view.

Owns `TablePolicy` (the settings, their defaults and sane ranges) and `policy_problem` (the checks that
span two settings). The per-turn clock itself stays the table's `clock` (seconds per move, or off); the
policy says what happens around it:

- `time_bank`: seconds each seat starts with, drawn on when its turn clock runs out; `bank_refill` is
  added at every hand (cash tables) or deal (Hearts, Crazy Eights), up to `bank_max`;
- `disconnect_bank`: seconds in all that a disconnected player's turns wait before a bot plays them
  (drawn down while waiting, not refilled); `grace`: seconds a disconnected player's seat is held
  before they are stood up;
- `away_after`: clock expiries in a row after which a bot plays the seat (marked away) until its
  player is back;
- `sit_out_max`: cash tables: seconds a player may sit out before they are stood up and their stack
  returned to their balance.

Imports no tier: `common.protocol` carries it in `create_table`, `TableInfo` and `View`.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

Seconds = Annotated[float, msgspec.Meta(ge=0, le=3600)]


class TablePolicy(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """What a table does about time and absence (see the module docstring for each setting). Like every
    frame's fields, a setting at its default is left out of the JSON (a default policy is `{}`): it rides
    in every view, and a client fills in the defaults."""

    time_bank: Annotated[float, msgspec.Meta(ge=0, le=600)] = 30.0
    bank_refill: Annotated[float, msgspec.Meta(ge=0, le=120)] = 5.0
    bank_max: Annotated[float, msgspec.Meta(ge=0, le=1200)] = 60.0
    disconnect_bank: Annotated[float, msgspec.Meta(ge=0, le=600)] = 30.0
    grace: Seconds = 120.0
    away_after: Annotated[int, msgspec.Meta(ge=1, le=10)] = 2
    sit_out_max: Annotated[float, msgspec.Meta(ge=0, le=7200)] = 600.0


DEFAULT = TablePolicy()


def policy_problem(policy: TablePolicy) -> str | None:
    """Why `policy` does not hold together, or None (each field's own range is checked when decoding).

    >>> policy_problem(TablePolicy(time_bank=90, bank_max=60))
    'the time bank (90 s) cannot start above its cap (60 s)'
    """
    if policy.time_bank > policy.bank_max:
        return f"the time bank ({policy.time_bank:g} s) cannot start above its cap ({policy.bank_max:g} s)"
    return None
