"""What haproxy in front costs a round trip: `python -m scripts.felt_load.haproxybench [--pings 2000]`.

One stack (one realtime process, one game server, the frontend) with haproxy in front (tests'
`Stack(haproxy=True)`, as `scripts/run --haproxy`), on loopback. One authenticated client per transport
sends `--pings` pings one after another, first straight to the realtime process, then through haproxy;
the median and 99th percentile round trip of each are printed (ms), as JSON with `--json`. Every process
it starts is stopped by its id.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import protocol as p
from tests.integration.players import connect_player
from tests.integration.stack import Stack, WebUser


async def round_trips(url: str, token: str, origin: str, transport: str, pings: int) -> list[float]:
    client = await connect_player(url, token, origin, transport)
    try:
        for _ in range(50):  # warm up
            await client.request(p.Ping())
        out = []
        for _ in range(pings):
            start = time.perf_counter()
            answer = await client.request(p.Ping())
            out.append((time.perf_counter() - start) * 1000)
            if not isinstance(answer, p.Pong):
                raise RuntimeError(f"ping answered {answer!r}")
        return out
    finally:
        await client.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m scripts.felt_load.haproxybench", description=__doc__)
    ap.add_argument("--pings", type=int, default=2000)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="felt-haproxybench-") as tmp:
        stack = Stack(Path(tmp), realtime=1, gameservers=1, haproxy=True,
                      env={"FELT_CLIENT_RATE": "100000"})  # pings back to back
        try:
            stack.start()
            user = WebUser(stack.origin, "bench").register()
            results: dict[str, dict[str, float]] = {}
            for transport in ("websocket", "xhr"):
                for route, url in (("direct", stack.realtime_url(0)), ("haproxy", f"{stack.origin}/sockjs")):
                    times = asyncio.run(round_trips(url, user.token()["token"], stack.origin, transport,
                                                    args.pings))
                    cuts = statistics.quantiles(times, n=100)
                    results[f"{transport} {route}"] = {"p50": round(statistics.median(times), 3),
                                                       "p99": round(cuts[98], 3)}
        finally:
            stack.stop()
    if args.json:
        print(json.dumps(results))
    else:
        for name, r in results.items():
            print(f"{name:20} p50 {r['p50']:.3f} ms   p99 {r['p99']:.3f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
