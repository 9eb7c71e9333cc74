"""The metric helpers and the endpoint (common/metrics.py) and the log formats (common/logs.py)."""

from __future__ import annotations

import asyncio
import json
import logging

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from common import logs
from common import protocol as p
from common.config import load
from common.metrics import GameServerMetrics, RealtimeMetrics, error_code, frame_type, port_for, serve


def test_a_frame_type_and_an_error_code_are_read_from_the_encoded_frame() -> None:
    assert frame_type(p.encode_str(p.Ack(req=3))) == "ack"
    error = p.encode_str(p.Error(code=p.E_RATE_LIMITED, text="slow down", req=1))
    assert frame_type(error) == "error" and error_code(error) == p.E_RATE_LIMITED
    assert frame_type("not json") == "other" and frame_type('{"msg":"' + "x" * 60) == "other"


def test_sent_counts_frames_by_type_and_errors_by_code() -> None:
    metrics = RealtimeMetrics()
    metrics.sent(p.encode_str(p.Error(code=p.E_NO_TABLE, text="no", req=1)))
    metrics.sent(p.encode_str(p.Ack(req=2)))
    registry = metrics.registry
    assert registry.get_sample_value("felt_realtime_messages_out_total", {"type": "error"}) == 1
    assert registry.get_sample_value("felt_realtime_messages_out_total", {"type": "ack"}) == 1
    assert registry.get_sample_value("felt_realtime_errors_total", {"code": p.E_NO_TABLE}) == 1


def test_counts_are_served_as_a_counter_per_label_value_as_they_are_added() -> None:
    metrics = GameServerMetrics()
    metrics.messages_in("act").inc()
    metrics.messages_in("act").inc(2)
    metrics.messages_in("join").inc()
    metrics.sent(p.encode_str(p.Ack(req=1)), 4)
    families = {f.name: f for f in text_string_to_metric_families(generate_latest(metrics.registry).decode())}
    family = families["felt_gameserver_messages_in"]
    assert family.type == "counter"
    assert {s.labels["type"]: s.value for s in family.samples} == {"act": 3.0, "join": 1.0}
    assert [(s.name, s.value) for s in families["felt_gameserver_messages_out"].samples] == [
        ("felt_gameserver_messages_out_total", 4.0)]
    assert not families["felt_gameserver_errors"].samples  # no error sent: no series yet


def test_metrics_ports_follow_the_service_port_unless_off_or_overridden() -> None:
    assert port_for(True, 1000, 8101, None) == 9101
    assert port_for(False, 1000, 8101, None) is None
    assert port_for(True, 1000, None, None) is None  # an ipc:// game server has no port of its own
    assert port_for(False, 1000, 8101, 7000) == 7000 and port_for(True, 1000, 8101, 0) is None


def test_the_endpoint_serves_the_registry_over_http() -> None:
    metrics = GameServerMetrics()
    metrics.open_tables.set_function(lambda: 7)
    metrics.commit_latency.observe(0.003)

    async def scrape() -> str:
        server = await serve(metrics.registry, "127.0.0.1", 0)
        try:
            assert server.server is not None
            port = server.server.sockets[0].getsockname()[1]
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            answer = await asyncio.wait_for(reader.read(), 5)
            writer.close()
            await writer.wait_closed()
            return answer.decode()
        finally:
            await server.close()

    answer = asyncio.run(scrape())
    head, _, body = answer.partition("\r\n\r\n")
    assert head.startswith("HTTP/1.1 200")
    samples = {s.name: s.value for f in text_string_to_metric_families(body) for s in f.samples}
    assert samples["felt_gameserver_open_tables"] == 7
    assert samples["felt_gameserver_log_commit_seconds_count"] == 1
    assert samples["felt_gameserver_lease_expiries_total"] == 0


def test_json_log_lines_carry_the_ids_a_call_passes() -> None:
    formatter = logs.JsonFormatter("gameserver g1")
    record = logging.LogRecord("felt.gameserver", logging.WARNING, __file__, 1, "refused %s", ("x",), None)
    for name, value in logs.ids(table="g1-7", user=3, req=12).items():
        setattr(record, name, value)
    line = json.loads(formatter.format(record))
    assert line["msg"] == "refused x" and line["level"] == "WARNING" and line["process"] == "gameserver g1"
    assert (line["table"], line["user"], line["req"]) == ("g1-7", 3, 12)
    plain = logging.LogRecord("felt", logging.INFO, __file__, 1, "hello", (), None)
    assert "table" not in json.loads(formatter.format(plain))
    assert logs.TextFormatter("rt").format(record).endswith("[table=g1-7 user=3 req=12]")


def test_configure_picks_the_format_from_the_setting() -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        logs.configure(load(env={"FELT_CONFIG": "", "FELT_JSON_LOGS": "true"}), "realtime 8101")
        assert isinstance(root.handlers[0].formatter, logs.JsonFormatter)
        logs.configure(load(env={"FELT_CONFIG": ""}), "realtime 8101")
        assert isinstance(root.handlers[0].formatter, logs.TextFormatter)
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
