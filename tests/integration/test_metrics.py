"""Every process serves Prometheus metrics on its internal port, and they count what really happened.

Real processes (the module's `Stack`), real clients: a game is created, joined, started and one move
played over websocket and xhr; a malformed message draws an error. Then each endpoint is scraped over
HTTP and parsed with prometheus_client's own parser.
"""

from __future__ import annotations

import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from common import protocol as p
from tests.integration.conftest import acked, created_table, run
from tests.integration.players import choose, connect_player, legal_of


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """(sample name, labels) -> value, from the endpoint at `url`."""
    with urllib.request.urlopen(url, timeout=10) as resp:
        assert resp.status == 200
        text = resp.read().decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def dealt_view(client, table: str) -> p.View:
    """The first view of `table` once it is dealt."""
    while True:
        msg = await client.recv(timeout=10)
        if isinstance(msg, p.View) and msg.table == table and msg.status != "waiting":
            return msg


def test_each_process_counts_connections_messages_errors_moves_and_commits(stack, new_user) -> None:
    ann, bob = new_user(), new_user()

    async def scenario() -> None:
        a = await connect_player(stack.realtime_url(0), ann.token()["token"], stack.origin)
        b = await connect_player(stack.realtime_url(0), bob.token()["token"], stack.origin, "xhr")
        try:
            table = created_table(await a.request(p.CreateTable(game="crazy_eights", seats=2)))
            acked(await b.request(p.Join(table=table)))
            acked(await a.request(p.Start(table=table)))
            views = [await dealt_view(client, table) for client in (a, b)]
            mover, view = next((c, v) for c, v in zip((a, b), views, strict=True) if legal_of(v))
            acked(await mover.request(p.Act(table=table, action=choose(legal_of(view)), seq=view.seq)))
            refused = await a.request(p.Join(table="g9-404"))  # no such server: answered here
            assert isinstance(refused, p.Error) and refused.code == p.E_NO_TABLE
        finally:
            await a.close()
            await b.close()

    run(scenario())
    rt = scrape(stack.metrics_url("rt-0"))
    assert value(rt, "felt_realtime_connections_opened_total", transport="websocket") >= 1
    assert value(rt, "felt_realtime_connections_opened_total", transport="xhr_streaming") + value(
        rt, "felt_realtime_connections_opened_total", transport="xhr") >= 1
    assert value(rt, "felt_realtime_messages_in_total", type="act") >= 1
    assert value(rt, "felt_realtime_messages_in_total", type="auth") >= 2
    assert value(rt, "felt_realtime_messages_out_total", type="view") >= 2
    assert value(rt, "felt_realtime_errors_total", code=p.E_NO_TABLE) >= 1
    assert value(rt, "felt_realtime_move_latency_seconds_count") >= 1
    assert value(rt, "felt_realtime_move_latency_seconds_sum") > 0

    games = [scrape(stack.metrics_url(f"gs-{name}")) for name in stack.gameserver_endpoints]
    assert sum(value(g, "felt_gameserver_messages_in_total", type="act") for g in games) >= 1
    assert sum(value(g, "felt_gameserver_open_tables") for g in games) >= 1
    assert sum(value(g, "felt_gameserver_log_commit_seconds_count") for g in games) >= 1
    for g in games:  # defined now, counted once tables move between servers
        assert ("felt_gameserver_lease_expiries_total", ()) in g
        assert value(g, "felt_gameserver_zmq_dropped_frames_total", link="realtime") == 0

    web = scrape(stack.metrics_url("frontend"))
    assert value(web, "felt_frontend_tokens_issued_total") >= 2
    assert value(web, "felt_frontend_requests_total", endpoint="api.token", status="200") >= 2
