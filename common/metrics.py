"""Prometheus metrics: what each tier counts, and the small HTTP endpoint that serves them.

Owns the metric definitions (names, labels, buckets) of every tier, each tier's set built on a registry
it is handed (`RealtimeMetrics(registry)`, `GameServerMetrics(...)`, `FrontendMetrics(...)`), so tests
and several servers in one process never share counters; and `serve()`, an asyncio endpoint for
`GET /metrics` on an internal address, for the processes that run an asyncio loop (realtime, game
servers; the frontend's gunicorn master serves its workers' metrics itself: frontend/gunicorn_conf.py).

The hot path pays one dict lookup and one add per count: the counters of every message in and out are
plain ints added on the loop thread and read at scrape time (`Counts`: a prometheus_client counter takes
a lock and checks its state on every add, 0.5 µs, and a move counts about a dozen), other label values
are cached children (`_Labelled`), a frame's type is read from its first bytes (`frame_type`; encoders
put `msg` first), and gauges that mirror a size are read at scrape time (`set_function`), never updated
per message.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from common.hotpath import GAMESERVER_PARTS, REALTIME_PARTS, HotPath

#: Move latency buckets (seconds): a move is normally a few milliseconds, a bad one a second.
LATENCY_BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0)
#: Commit latency buckets (seconds): a group commit of the log.
COMMIT_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0)
_ERROR_CODE = re.compile(r'"code":"([a-z_]{1,40})"')


def frame_type(frame: str) -> str:
    """The `msg` of an encoded frame: `{"msg":"view",...}` -> "view" (our encoders write it first)."""
    if frame.startswith('{"msg":"'):
        end = frame.find('"', 8, 48)
        if end > 8:
            return frame[8:end]
    return "other"


def message_type(msg: Any) -> str:
    """The `msg` tag of a decoded message (a msgspec struct of common.protocol)."""
    return str(type(msg).__struct_config__.tag)


def error_code(frame: str) -> str:
    """The `code` of an encoded error frame."""
    found = _ERROR_CODE.search(frame, 0, 200)
    return found.group(1) if found else "other"


class _Labelled:
    """A labelled metric whose children are cached by label value (labels() is slower than a dict)."""

    def __init__(self, metric: Any) -> None:
        self.metric = metric
        self.children: dict[str, Any] = {}

    def __call__(self, value: str) -> Any:
        child = self.children.get(value)
        if child is None:
            child = self.children[value] = self.metric.labels(value)
        return child


class Count:
    """One label value's count of a `Counts`."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0

    def inc(self, amount: int = 1) -> None:
        self.value += amount


class Counts:
    """A counter with one label, counted in plain ints by the one thread that runs the loop (no lock: a
    scrape reads ints) and served as `<name>_total{<label>}`. `counts(value)` is that value's `Count`."""

    def __init__(self, name: str, documentation: str, label: str, registry: CollectorRegistry) -> None:
        self.name, self.documentation, self.label = name, documentation, label
        self.children: dict[str, Count] = {}
        registry.register(self)

    def __call__(self, value: str) -> Count:
        child = self.children.get(value)
        if child is None:
            child = self.children[value] = Count()
        return child

    # the prometheus_client collector protocol
    def collect(self) -> Iterator[Any]:
        family = CounterMetricFamily(self.name, self.documentation, labels=[self.label])
        for value, child in list(self.children.items()):
            family.add_metric([value], child.value)
        yield family

    def describe(self) -> list[Any]:
        return []


class MessageMetrics:
    """What the realtime and game-server tiers share: messages in and out, errors, frames dropped."""

    def __init__(self, registry: CollectorRegistry | None, tier: str) -> None:
        self.registry = registry = registry if registry is not None else CollectorRegistry()
        self.messages_in = Counts(f"felt_{tier}_messages_in", "Messages received, by type", "type", registry)
        self.messages_out = Counts(f"felt_{tier}_messages_out", "Frames sent towards clients, by type",
                                   "type", registry)
        self.errors = Counts(f"felt_{tier}_errors", "Error answers sent, by protocol error code",
                             "code", registry)
        self.zmq_dropped = _Labelled(Counter(
            f"felt_{tier}_zmq_dropped_frames", "Frames dropped at a ZeroMQ high-water mark, by link",
            ["link"], registry=registry))

    def sent(self, frame: str, count: int = 1) -> None:
        """`frame` went out `count` times (a realtime process counts each connection it wrote it to; a
        game server counts a frame once, however many connections it is for)."""
        kind = frame_type(frame)
        self.messages_out(kind).inc(count)
        if kind == "error":
            self.errors(error_code(frame)).inc(count)


class RealtimeMetrics(MessageMetrics):
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        super().__init__(registry, "realtime")
        registry = self.registry
        self.connections = _Labelled(Gauge(
            "felt_realtime_connections", "Open client connections, by SockJS transport", ["transport"],
            registry=registry))
        self.connections_opened = _Labelled(Counter(
            "felt_realtime_connections_opened", "Client connections opened, by SockJS transport",
            ["transport"], registry=registry))
        self.sessions_refused = _Labelled(Counter(
            "felt_realtime_sessions_refused", "New SockJS sessions refused by the per-address limits, by "
            "reason (unauthenticated: too many waiting to sign in; new_sessions: too many too fast)",
            ["reason"], registry=registry))
        self.move_latency = Histogram(
            "felt_realtime_move_latency_seconds", "From a move's receipt here to the last frame it caused "
            "being handed to this process's connections", buckets=LATENCY_BUCKETS, registry=registry)
        #: time per part of the hot path (common/hotpath.py; scripts/bench reads it per hop)
        self.hot = HotPath("realtime", REALTIME_PARTS, registry)


class GameServerMetrics(MessageMetrics):
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        super().__init__(registry, "gameserver")
        registry = self.registry
        #: read at scrape time: the server sets its function (`set_function(lambda: len(tables))`)
        self.open_tables = Gauge("felt_gameserver_open_tables", "Tables this game server hosts",
                                 registry=registry)
        #: time per part of the hot path (common/hotpath.py; scripts/bench reads it per hop)
        self.hot = HotPath("gameserver", GAMESERVER_PARTS, registry)
        self.commit_latency = Histogram(
            "felt_gameserver_log_commit_seconds", "Time to commit one batch of log entries (a group commit) "
            "or one buy-in", buckets=COMMIT_BUCKETS, registry=registry)
        #: Incremented by the table hand-over code (registry and leases): a table this server handed
        #: to another (`direction="out"`) or took over (`"in"`).
        self.handovers = _Labelled(Counter(
            "felt_gameserver_handovers", "Tables handed over between game servers, by direction",
            ["direction"], registry=registry))
        self.handovers("in"), self.handovers("out")  # shown at 0 until the first
        #: Incremented when a table lease this server held expired before it was renewed.
        self.lease_expiries = Counter(
            "felt_gameserver_lease_expiries", "Table leases of this server that expired unrenewed",
            registry=registry)


class FrontendMetrics:
    """Per app; under gunicorn the values go to files its master serves (`start_multiprocess_exporter`)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        registry = registry if registry is not None else CollectorRegistry()
        self.requests = Counter("felt_frontend_requests", "HTTP requests, by endpoint and status",
                                ["endpoint", "status"], registry=registry)
        self.request_latency = Histogram("felt_frontend_request_seconds", "HTTP request time, by endpoint",
                                         ["endpoint"], buckets=LATENCY_BUCKETS, registry=registry)
        self.tokens = Counter("felt_frontend_tokens_issued", "Realtime tokens issued", registry=registry)


# ---- the endpoint ------------------------------------------------------------------------------


def port_for(metrics_on: bool, offset: int, service_port: int | None, override: int | None) -> int | None:
    """A process's metrics port: `override` (0: none), else its service port + `offset`; None when off
    (metrics = false, or a process with no port of its own, such as a game server on ipc://)."""
    if override is not None:
        return override or None
    if not metrics_on or service_port is None:
        return None
    return service_port + offset


class MetricsServer:
    """`GET /metrics` (any path, in fact) on `host:port`, served on the running asyncio loop."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.server: asyncio.Server | None = None

    async def start(self, host: str, port: int) -> int:
        """Listen; returns the port (useful with port 0)."""
        self.server = await asyncio.start_server(self._answer, host, port)
        bound: int = self.server.sockets[0].getsockname()[1]
        return bound

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            if head.startswith(b"GET "):
                body = generate_latest(self.registry)
                status, kind = b"200 OK", CONTENT_TYPE_LATEST.encode()
            else:
                body, status, kind = b"GET only\n", b"405 Method Not Allowed", b"text/plain"
            writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Type: " + kind + b"\r\nContent-Length: "
                         + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
            await writer.drain()
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
            pass  # a scraper that went away or sent nonsense: nothing to answer
        finally:
            writer.close()

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None


async def serve(registry: CollectorRegistry, host: str, port: int) -> MetricsServer:
    """A MetricsServer listening on `host:port` (close() it at the end)."""
    server = MetricsServer(registry)
    await server.start(host, port)
    return server


async def serve_if_free(registry: CollectorRegistry, host: str, port: int | None,
                        log: logging.Logger) -> MetricsServer | None:
    """A process's metrics endpoint: None when off (`port` None) or when the port is taken, which is
    logged: the process serves on without metrics."""
    if port is None:
        return None
    try:
        server = await serve(registry, host, port)
    except OSError as exc:
        log.error("metrics: cannot listen on %s:%d (%s); serving without them", host, port, exc)
        return None
    log.info("metrics on http://%s:%d/metrics", host, port)
    return server


# ---- gunicorn: several worker processes, one endpoint ------------------------------------------

#: The environment variable prometheus_client reads, at import, to keep values in files.
MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"


def start_multiprocess_exporter(directory: str, host: str, port: int) -> Any:
    """Serve the metrics every worker writes into `directory` (prometheus_client's multiprocess mode,
    which the workers use when MULTIPROC_DIR names it before they import prometheus_client) from a
    thread of this process, the gunicorn master. Returns the HTTP server (shutdown() it)."""
    from prometheus_client import multiprocess, start_http_server

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    server, _thread = start_http_server(port, addr=host, registry=registry)
    return server


def worker_exited(directory: str, pid: int) -> None:
    """Forget a dead worker's live gauges (gunicorn's child_exit hook)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid, path=directory)  # type: ignore[no-untyped-call]
