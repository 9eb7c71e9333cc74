"""`python -m gameserver [--name g1]`: run one game server until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from common import garbage, logs, loops
from common.config import load
from common.metrics import GameServerMetrics, port_for, serve_if_free
from common.schema import SchemaMismatch, open_db
from gameserver.peers import PortTaken
from gameserver.rules import games
from gameserver.server import GameServer
from gameserver.store import Store


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gameserver", description=__doc__)
    parser.add_argument("--name", help="this server's name, a key of the `gameservers` setting")
    parser.add_argument("--endpoint", help="ZeroMQ endpoint to bind (default: from `gameservers`)")
    parser.add_argument("--metrics-port", type=int, help="serve metrics here, 0 for none (default: the "
                        "endpoint's port + metrics_port_offset)")
    args = parser.parse_args(argv)
    settings = load()
    name = args.name or settings.gameserver_name
    endpoint = args.endpoint or settings.gameservers.get(name)
    if not endpoint:
        parser.error(f"no endpoint for game server {name!r}: set FELT_GAMESERVERS or pass --endpoint")
    logs.configure(settings, f"gameserver {name}")
    log = logging.getLogger("felt.gameserver")

    try:
        engine = open_db(settings.db_url())
    except SchemaMismatch as exc:
        log.error("%s", exc)
        print(f"felt: gameserver {name}: {exc}", file=sys.stderr, flush=True)
        return 3
    metrics = GameServerMetrics()
    garbage.GcClock("gameserver", metrics.registry)
    server = GameServer(settings, name, endpoint, Store(engine), games(), metrics=metrics)
    tcp_port = endpoint.rsplit(":", 1)[-1]
    metrics_port = port_for(settings.metrics, settings.metrics_port_offset,
                            int(tcp_port) if tcp_port.isdigit() else None, args.metrics_port)
    if not settings.curve:
        log.warning("curve = false: the links to realtime processes are NOT encrypted or authenticated; "
                    "anyone who can reach %s can act as any player. Never run so outside a benchmark.",
                    endpoint)
    recovered = server.recover()
    try:
        server.bind()
    except ValueError as exc:  # a public endpoint: say so plainly
        parser.error(str(exc))
    except (PortTaken, RuntimeError) as exc:  # the port is held, or libzmq cannot do CURVE safely
        log.error("%s", exc)
        print(f"felt: gameserver {name}: {exc}", file=sys.stderr, flush=True)
        return 3
    log.info("serving %s on %s (%d open tables recovered), on the %s event loop", ", ".join(server.games),
             endpoint, recovered, settings.event_loop)
    print(f"READY gameserver {name} {endpoint}", flush=True)

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, server.stop)
        exporter = await serve_if_free(metrics.registry, settings.metrics_host, metrics_port, log)
        garbage.settle()
        try:
            await server.run()
        finally:
            if exporter is not None:
                await exporter.close()

    loops.run(serve(), settings.event_loop)
    log.info("stopped; everything written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
