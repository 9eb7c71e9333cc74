"""The tier link's own latency, at a move step's rate: `python -m scripts.felt_load.linkping --rate R`.

A round trip of Felt's move crosses the realtime <-> game-server link twice (the `Forward` in, the
`Delivers` back), so no move can come back sooner than the link's round trip plus the client's
websocket round trip (the sockjs-tornado echo). This measures the first: a DEALER with Felt's CurveZMQ
client keys sends move-sized frames (`curvebench.FORWARD`) over loopback TCP to a ROUTER in a process of
its own (CurveZMQ server, pyzmq's ZAP authenticator, each message's User-Id read, as a game server does)
that answers each with a view-sized `Deliver`, one in flight at a time and paced at `rate` round trips a
second, as a step's moves arrive. Each end is pinned to the core its tier has in `scripts/bench`.

Prints JSON: round trips done, the rate achieved, rtt n / mean / p50 / p95 / p99 / max in ms (after
`--warmup`; the load generator's histogram, `hist.Hist`, so they read like Felt's and the echo's),
and the CPU µs per round trip of both processes (all threads: libzmq's I/O threads too).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import zmq

from scripts.felt_load.curvebench import DELIVER, FORWARD, _dial_curve, _serve_curve
from scripts.felt_load.hist import Hist
from scripts.felt_load.procs import ROOT, python


def _pin(cpu: str | None) -> None:
    if cpu is not None and hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {int(cpu)})


def _answer(endpoint: Any, keys: str, cpu: str | None, report: Any) -> None:
    """The game server's end: answer every Forward with a Deliver until an empty message; then send the
    CPU it spent since the mark (`b"m"`, sent where the measured part starts)."""
    _pin(cpu)
    ctx = zmq.Context()
    router = ctx.socket(zmq.ROUTER)
    router.setsockopt(zmq.LINGER, 0)
    auth = _serve_curve(ctx, router, Path(keys))
    port = router.bind_to_random_port("tcp://127.0.0.1")
    endpoint.send(port)
    c0 = time.process_time()
    while True:
        frames = router.recv_multipart(copy=False)
        frames[1].get("User-Id")
        body = frames[1].bytes
        if not body:
            break
        if body == b"m":
            c0 = time.process_time()
        router.send_multipart([frames[0].bytes, DELIVER])
    report.send(time.process_time() - c0)
    router.close()
    auth.stop()
    ctx.term()


def ping(rate: float, seconds: float, warmup: float = 1.0, dealer_cpu: str | None = None,
         router_cpu: str | None = None) -> dict[str, Any]:
    """Round trips paced at `rate` a second, one in flight, for `warmup` + `seconds`; the figures of the
    last `seconds` (a round trip is started only at its slot, never early: at most `rate` a second)."""
    if rate <= 0 or seconds <= 0:
        raise ValueError("rate and seconds must be positive")
    spawn = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory() as keys:
        ctx = zmq.Context()
        dealer = ctx.socket(zmq.DEALER)
        dealer.setsockopt(zmq.LINGER, 0)
        _dial_curve(dealer, Path(keys))  # both keys made before the ROUTER reads its allow-list
        port_in, port_out = spawn.Pipe()
        cpu_in, cpu_out = spawn.Pipe()
        child = spawn.Process(target=_answer, args=(port_out, keys, router_cpu, cpu_out), daemon=True)
        child.start()
        try:
            if not port_in.poll(30):
                raise RuntimeError("the link's ROUTER did not start")
            own_affinity = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
            _pin(dealer_cpu)
            dealer.connect(f"tcp://127.0.0.1:{port_in.recv()}")
            dealer.send(FORWARD)
            dealer.recv()  # the handshake is done
            rtts = Hist()  # as the load generator keeps Felt's and the echo's round trips
            interval = 1.0 / rate
            start = time.perf_counter()
            measured_from, end = start + warmup, start + warmup + seconds
            c0 = time.process_time()
            slot, marked = start, False
            while slot < end:
                delay = slot - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                if slot >= measured_from and not marked:
                    marked = True
                    dealer.send(b"m")  # both ends count their CPU from here
                    dealer.recv()
                    c0 = time.process_time()
                sent = time.perf_counter()
                dealer.send(FORWARD)
                dealer.recv()
                if slot >= measured_from:
                    rtts.add(time.perf_counter() - sent)
                slot += interval
            cpu = time.process_time() - c0
            dealer.send(b"")
            child_cpu = cpu_in.recv() if cpu_in.poll(30) else None
            if own_affinity is not None:
                os.sched_setaffinity(0, own_affinity)
        finally:
            child.join(10)
            if child.is_alive():
                child.kill()
            dealer.close()
            ctx.term()
    both = cpu + child_cpu if child_cpu is not None else None
    return {"round_trips": rtts.n, "achieved": round(rtts.n / seconds, 1), "rtt": rtts.summary(),
            "cpu_us_per_round_trip": round(both / rtts.n * 1e6, 1) if both is not None and rtts.n else None}


async def measured(rate: float, seconds: float, warmup: float, dealer_cpu: str | None,
                   router_cpu: str | None) -> dict[str, Any]:
    """`ping` in a process of its own (the caller's loop runs on; its core is not the dealer's)."""
    argv = [python(), "-m", "scripts.felt_load.linkping", "--rate", str(rate), "--seconds", str(seconds),
            "--warmup", str(warmup)]
    for flag, cpu in (("--dealer-cpu", dealer_cpu), ("--router-cpu", router_cpu)):
        if cpu is not None:
            argv += [flag, cpu]
    proc = await asyncio.create_subprocess_exec(*argv, cwd=ROOT, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), warmup + seconds + 60)
    if proc.returncode != 0:
        raise RuntimeError(f"linkping failed ({proc.returncode}): {err.decode(errors='replace')[-500:]}")
    result: dict[str, Any] = json.loads(out)
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m scripts.felt_load.linkping", description=__doc__)
    ap.add_argument("--rate", type=float, default=500.0, help="round trips a second")
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--warmup", type=float, default=1.0)
    ap.add_argument("--dealer-cpu", help="the realtime end's core (default: unpinned)")
    ap.add_argument("--router-cpu", help="the game server end's core (default: unpinned)")
    args = ap.parse_args(argv)
    print(json.dumps(ping(args.rate, args.seconds, args.warmup, args.dealer_cpu, args.router_cpu)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
