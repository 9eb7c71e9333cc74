"""The port picker of the test stacks and the load generator (tests/integration/stack.py): a stack picks
all its ports before its processes bind them, so a port must never be handed out twice."""

from __future__ import annotations

import random
import socket

import pytest

from tests.integration import stack


def test_no_port_is_handed_out_twice_even_while_nothing_binds_it() -> None:
    ports = [stack.free_port() for _ in range(300)]
    assert len(set(ports)) == len(ports)


def test_a_port_with_offsets_reserves_each_of_them() -> None:
    first = stack.free_port(offsets=(0, 1, stack.METRICS_OFFSET))
    later = {stack.free_port() for _ in range(300)}
    assert later.isdisjoint({first, first + 1, first + stack.METRICS_OFFSET})


def test_a_port_bound_by_someone_else_is_not_handed_out(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        busy = taken.getsockname()[1]
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            free = probe.getsockname()[1]
        picks = iter([busy, free])
        monkeypatch.setattr(random, "randint", lambda low, high: next(picks))
        assert stack.free_port() == free
