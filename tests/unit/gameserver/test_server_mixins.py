"""`GameServer` is assembled from mixins that declare what they use of their host: no declaration may hide
the real method at run time (a stub earlier in the MRO would silently do nothing), and every method a
mixin declares for the type checker only must exist on the assembled server."""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Callable
from typing import Any

import pytest

from gameserver import opening, placement, socket_loop, timers
from gameserver.server import GameServer

MIXINS = [socket_loop.SocketLoop, timers.TableTimers, placement.Placement, opening.TableOpening]


def is_stub(function: Callable[..., Any]) -> bool:
    """A body of `...`, `pass` or `raise NotImplementedError` (after an optional docstring)."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    body = tree.body[0].body  # type: ignore[attr-defined]
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str) and len(body) > 1:
        body = body[1:]
    if len(body) != 1:
        return False
    stmt = body[0]
    if isinstance(stmt, ast.Pass):
        return True
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and stmt.value.value is Ellipsis:
        return True
    return isinstance(stmt, ast.Raise) and "NotImplementedError" in ast.unparse(stmt)


def type_checking_methods(cls: type) -> list[str]:
    """The methods `cls` declares inside `if TYPE_CHECKING:` (absent at run time)."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            names += [f.name for f in node.body if isinstance(f, ast.FunctionDef)]
    return names


def test_the_mixins_come_in_the_order_their_declarations_need() -> None:
    assert GameServer.__mro__[1:5] == tuple(MIXINS)


@pytest.mark.parametrize("mixin", MIXINS, ids=lambda m: m.__name__)
def test_no_declared_method_hides_the_real_one(mixin: type) -> None:
    for name, value in vars(mixin).items():
        if inspect.isfunction(value) and is_stub(value):
            resolved = getattr(GameServer, name)
            assert not is_stub(resolved), f"{mixin.__name__}.{name} is a stub on GameServer"
    for name in type_checking_methods(mixin):
        assert name not in vars(mixin), name
        resolved = getattr(GameServer, name, None)
        assert resolved is not None, f"{mixin.__name__} declares {name}, which GameServer lacks"
        assert not is_stub(resolved), f"{mixin.__name__}.{name} resolves to a stub on GameServer"


def test_the_stub_detector_tells_stubs_from_real_methods() -> None:
    assert is_stub(placement.Placement._flush) and is_stub(placement.Placement._arm)
    assert not is_stub(socket_loop.SocketLoop._flush) and not is_stub(timers.TableTimers._arm)
    assert type_checking_methods(socket_loop.SocketLoop) == ["_on_message", "_make_sure", "_fenced", "_arm"]
