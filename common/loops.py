"""Runs a tier's main coroutine on the event loop its settings name: uvloop's by default, or asyncio's.

uvloop (libuv under asyncio's interface) does a loop pass's polling, scheduling and timers in C; Tornado,
sockjs-tornado and the ZeroMQ readers (`loop.add_reader` on a socket's FD) run on it unchanged. The
standard library's loop stays one setting away (`event_loop = "asyncio"`), for debugging and comparison.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T], event_loop: str) -> T:
    """`main` run to its end on a new loop of kind `event_loop` ("uvloop" or "asyncio")."""
    if event_loop == "uvloop":
        import uvloop

        return uvloop.run(main)
    if event_loop == "asyncio":
        return asyncio.run(main)
    main.close()
    raise ValueError(f"unknown event loop {event_loop!r}")
