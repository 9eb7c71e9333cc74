"""The hot-path accounting: sections charge their time to a part, an outer section less its inner ones,
and a scrape shows every part's seconds and calls."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from common import hotpath as hp


def test_sections_charge_their_part_and_an_outer_one_excludes_the_inner() -> None:
    hot = hp.HotPath("realtime", hp.REALTIME_PARTS)
    outer = hp.now_ns()
    inner_before = hot.ns[hp.TO_GAMESERVER]
    inner = hp.now_ns()
    sum(range(20_000))
    hot.add(hp.TO_GAMESERVER, inner)
    hot.add_outer(hp.EDGE_IN, outer, hp.TO_GAMESERVER, inner_before)
    assert hot.calls[hp.TO_GAMESERVER] == hot.calls[hp.EDGE_IN] == 1
    assert hot.ns[hp.TO_GAMESERVER] > 0
    assert hot.ns[hp.EDGE_IN] < hot.ns[hp.TO_GAMESERVER]  # the outer part kept only its own time
    assert hot.ns[hp.EDGE_OUT] == hot.ns[hp.FROM_GAMESERVER] == 0


def test_chained_sections_hand_over_the_clock() -> None:
    hot = hp.HotPath("gameserver", hp.GAMESERVER_PARTS)
    started = hp.now_ns()
    after_commit = hot.add(hp.COMMIT, started)
    end = hot.add(hp.TO_REALTIME, after_commit)
    assert hot.ns[hp.COMMIT] + hot.ns[hp.TO_REALTIME] == end - started


def test_a_scrape_shows_every_part() -> None:
    registry = CollectorRegistry()
    hot = hp.HotPath("gameserver", hp.GAMESERVER_PARTS, registry)
    hot.ns[hp.TABLE], hot.calls[hp.TABLE] = 1_500_000_000, 3
    text = generate_latest(registry).decode()
    assert 'felt_gameserver_hot_seconds_total{part="table"} 1.5' in text
    assert 'felt_gameserver_hot_calls_total{part="table"} 3.0' in text
    assert 'felt_gameserver_hot_seconds_total{part="commit"} 0.0' in text
