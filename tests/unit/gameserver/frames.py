"""Typed picks for the tests: a value asserted to be of one type, and the decoded frames of a `Result`.

A decoded frame is a `p.ServerMessage` (a union) and a game's view a `GameView` (another): a test that
expects one kind says so with `narrow`, which fails the test (naming what came instead) if it is not.
"""

from __future__ import annotations

from typing import TypeVar

from common import protocol as p
from gameserver.table import Result

T = TypeVar("T")


def narrow(value: object, kind: type[T]) -> T:
    """`value`, asserted to be a `kind`."""
    assert isinstance(value, kind), f"expected a {kind.__name__}, got {value!r}"
    return value


def frames(result: Result, conn: str) -> list[p.ServerMessage]:
    """The frames `result` sends to `conn`, decoded, in order."""
    return [p.decode_server(o.frame) for o in result.out if conn in o.conns]


def acked_table(reply: p.ServerMessage) -> str:
    """The table an `Ack` names (the one just created or joined): `reply` asserted to be such an ack."""
    ack = narrow(reply, p.Ack)
    assert ack.table is not None, f"an ack without a table: {ack!r}"
    return ack.table
