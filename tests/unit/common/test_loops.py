"""common.loops: a tier's coroutine runs on the loop its settings name, and a wrong name is refused."""

from __future__ import annotations

import asyncio
import inspect

import pytest
import uvloop

from common import loops
from common.config import load


async def _running_loop_and(value: int) -> tuple[asyncio.AbstractEventLoop, int]:
    await asyncio.sleep(0)
    return asyncio.get_running_loop(), value


def test_uvloop_runs_the_coroutine_on_libuv_and_gives_back_its_result() -> None:
    loop, value = loops.run(_running_loop_and(7), "uvloop")
    assert isinstance(loop, uvloop.Loop) and value == 7


def test_asyncio_runs_the_coroutine_on_the_standard_loop() -> None:
    loop, value = loops.run(_running_loop_and(8), "asyncio")
    assert not isinstance(loop, uvloop.Loop) and isinstance(loop, asyncio.BaseEventLoop) and value == 8


def test_an_unknown_loop_is_refused_and_the_coroutine_is_not_left_unawaited() -> None:
    coro = _running_loop_and(9)
    with pytest.raises(ValueError, match="unknown event loop 'trio'"):
        loops.run(coro, "trio")
    assert inspect.getcoroutinestate(coro) == inspect.CORO_CLOSED  # no "never awaited" warning


def test_the_setting_defaults_to_uvloop_and_refuses_other_names() -> None:
    assert load(env={}).event_loop == "uvloop"
    assert load(env={"FELT_EVENT_LOOP": "asyncio"}).event_loop == "asyncio"
    with pytest.raises(ValueError, match="FELT_EVENT_LOOP: event_loop: must be one of uvloop, asyncio"):
        load(env={"FELT_EVENT_LOOP": "tornado"})
