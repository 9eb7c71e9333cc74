"""`python -m realtime [--port 8101]`: run one realtime (SockJS) server until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import logging
import secrets
import signal
import sys
import time

from common import curve, garbage, logs, loops, tokens
from common.config import load, token_keys
from common.metrics import RealtimeMetrics, port_for, serve_if_free
from realtime.app import make_app
from realtime.topology import drain_clients


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m realtime", description=__doc__)
    parser.add_argument("--port", type=int, help="port to listen on (default: realtime_port)")
    parser.add_argument("--host", help="address to listen on (default: realtime_host)")
    parser.add_argument("--metrics-port", type=int, help="serve metrics here, 0 for none (default: the "
                        "port + metrics_port_offset)")
    args = parser.parse_args(argv)
    settings = load()
    port = args.port or settings.realtime_port
    host = args.host or settings.realtime_host
    # unique per start: a restarted process is a new peer to the game servers
    identity = f"rt{port}.{secrets.token_hex(3)}"
    logs.configure(settings, f"realtime {port}")
    metrics_port = port_for(settings.metrics, settings.metrics_port_offset, port, args.metrics_port)
    keys = token_keys(settings)
    log = logging.getLogger("felt.realtime")
    if not settings.curve:
        log.warning("curve = false: the links to the game servers are NOT encrypted or authenticated; "
                    "never run so outside a benchmark")
    else:
        try:
            curve.require_curve()
        except RuntimeError as exc:
            print(f"felt: realtime {port}: {exc}", file=sys.stderr, flush=True)
            return 3

    def verify(token: str) -> tokens.Claims:
        return tokens.verify(token, keys, now=time.time())

    async def serve() -> None:
        template = settings.realtime_public_url or f"http://{host}:{{port}}/sockjs"
        public_url = template.replace("{port}", str(port))
        metrics = RealtimeMetrics()
        garbage.GcClock("realtime", metrics.registry)
        app, services = make_app(settings, identity=identity, verify=verify, metrics=metrics,
                                 public_url=public_url)
        exporter = await serve_if_free(metrics.registry, settings.metrics_host, metrics_port, log)
        # SockJS frames are small; the adapter and the protocol check sizes again, precisely. No xheaders:
        # the client's address is the peer's unless a trusted proxy's (realtime/addresses.py)
        server = app.listen(port, address=host, max_body_size=256 * 1024)
        log.info("listening on http://%s:%d/sockjs, on the %s event loop", host, port, settings.event_loop)
        print(f"READY realtime {identity} http://{host}:{port}/sockjs", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        follower = services.follower
        if follower is not None:

            def drain() -> None:
                log.warning("draining: clients go to other realtime servers, then this process exits")
                task = asyncio.ensure_future(drain_clients(services, follower.registry, follower.name,
                                                           settings.drain_spread, settings.drain_deadline))
                task.add_done_callback(lambda _: stop.set())

            follower.on_drain = drain
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        garbage.settle()
        await stop.wait()
        server.stop()
        services.router.close_all()
        if services.follower is not None:
            await services.follower.stop()
        services.gateway.stop()
        if exporter is not None:
            await exporter.close()

    loops.run(serve(), settings.event_loop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
