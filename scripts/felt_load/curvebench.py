"""What CurveZMQ costs on one realtime <-> game-server link: `python -m scripts.felt_load.curvebench`.

A DEALER sends move-sized frames (a Forward of an `act`, ~200 bytes) to a ROUTER over loopback TCP and the
ROUTER answers each with a view-sized Deliver (~1 KiB), as one move crosses the link: the same sockets and
options as Felt's tiers, with and without CURVE (the ROUTER with pyzmq's ZAP authenticator and reading
each message's User-Id, as a game server does). Reports round trips per second and CPU microseconds per
round trip (both ends, this process), the median of `--repeat` runs of each, in alternating order, and
the ratio CURVE / plain measured in the same run. `--ping`: one move in flight at a time, the ROUTER in
a process of its own (over IPC), as a live table's moves cross when nothing batches them; CPU of both
processes.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import zmq
from zmq.auth.thread import ThreadAuthenticator

from common import curve
from common import protocol as p

FORWARD = p.encode(p.Forward(conn="rt8101.3fa2c1:17", user=42, name="player42", rid=123456,
                             body=p.Act(table="g1-0042", action=p.Raise(to=250), seq=311, req=99)))
DELIVER = p.encode(p.Deliver(conns=["rt8101.3fa2c1:17"], frame="x" * 1000, rid=123456))


def _serve_curve(ctx: zmq.Context[Any], router: zmq.Socket[Any], keys: Path) -> ThreadAuthenticator:
    """`router` as a game server's CURVE server, its clients checked by pyzmq's ZAP authenticator."""
    server = curve.own_key(keys, "gameserver", "g1")
    auth = ThreadAuthenticator(ctx)
    auth.start()
    auth.configure_curve_callback(curve.ZAP_DOMAIN, credentials_provider=curve.AllowList(keys))
    router.curve_secretkey, router.curve_publickey = server.secret, server.public
    router.curve_server = True
    router.zap_domain = curve.ZAP_DOMAIN.encode()
    return auth


def _dial_curve(dealer: zmq.Socket[Any], keys: Path) -> None:
    """`dealer` as a realtime process's CURVE client of the game server (both keys made if missing)."""
    server = curve.own_key(keys, "gameserver", "g1")
    client = curve.own_key(keys, "realtime", "rt8101")
    dealer.curve_secretkey, dealer.curve_publickey = client.secret, client.public
    dealer.curve_serverkey = server.public


def one_run(use_curve: bool, moves: int, window: int, keys: Path) -> dict[str, float]:
    ctx = zmq.Context()
    router, dealer = ctx.socket(zmq.ROUTER), ctx.socket(zmq.DEALER)
    auth = None
    for sock in (router, dealer):
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.SNDHWM, 100_000)
        sock.setsockopt(zmq.RCVHWM, 100_000)
    if use_curve:
        _dial_curve(dealer, keys)
        auth = _serve_curve(ctx, router, keys)
    port = router.bind_to_random_port("tcp://127.0.0.1")
    dealer.connect(f"tcp://127.0.0.1:{port}")
    dealer.send(FORWARD)
    router.recv_multipart()  # the handshake is done
    sent = done = 0
    t0, c0 = time.perf_counter(), time.process_time()
    while done < moves:
        while sent < moves and sent - done < window:
            dealer.send(FORWARD)
            sent += 1
        while router.poll(0):
            frames = router.recv_multipart(copy=False)
            if use_curve:
                frames[1].get("User-Id")
            router.send_multipart([frames[0].bytes, DELIVER])
        while dealer.poll(0 if sent - done < window else 100):
            dealer.recv()
            done += 1
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    dealer.close()
    router.close()
    if auth is not None:
        auth.stop()
    ctx.term()
    return {"moves_per_s": moves / wall, "cpu_us_per_move": 1e6 * cpu / moves}


def _answer(endpoint: str, moves: int, use_curve: bool, keys: str, cpu: Any) -> None:
    """The game server's end of `ping_run`, in a process of its own: answer `moves` + 1 Forwards."""
    ctx = zmq.Context()
    router = ctx.socket(zmq.ROUTER)
    router.setsockopt(zmq.LINGER, 0)
    auth = _serve_curve(ctx, router, Path(keys)) if use_curve else None
    router.bind(endpoint)
    c0 = 0.0
    for i in range(moves + 1):
        frames = router.recv_multipart(copy=False)
        if use_curve:
            frames[1].get("User-Id")
        router.send_multipart([frames[0].bytes, DELIVER])
        if i == 0:  # the handshake is done
            c0 = time.process_time()
    cpu.send(time.process_time() - c0)
    router.close()
    if auth is not None:
        auth.stop()
    ctx.term()


def ping_run(use_curve: bool, moves: int, keys: Path) -> dict[str, float]:
    """One move in flight, as at a live table: each Forward answered before the next goes, the ROUTER in
    another process (each message wakes both ends' I/O threads). CPU of both processes, all threads."""
    import multiprocessing

    spawn = multiprocessing.get_context("spawn")
    endpoint = f"ipc://{keys}/ping-{'curve' if use_curve else 'plain'}"
    ctx = zmq.Context()
    dealer = ctx.socket(zmq.DEALER)
    dealer.setsockopt(zmq.LINGER, 0)
    if use_curve:  # both keys exist before the ROUTER's allow-list is read
        _dial_curve(dealer, keys)
    mine, theirs = spawn.Pipe()
    child = spawn.Process(target=_answer, args=(endpoint, moves, use_curve, str(keys), theirs))
    child.start()
    dealer.connect(endpoint)
    dealer.send(FORWARD)
    dealer.recv()
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(moves):
        dealer.send(FORWARD)
        dealer.recv()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    other = mine.recv()
    child.join()
    dealer.close()
    ctx.term()
    return {"moves_per_s": moves / wall, "cpu_us_per_move": 1e6 * (cpu + other) / moves}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m scripts.felt_load.curvebench", description=__doc__)
    ap.add_argument("--moves", type=int, default=50_000, help="round trips per run")
    ap.add_argument("--repeat", type=int, default=5, help="runs of each (medians are reported)")
    ap.add_argument("--window", type=int, default=64, help="moves in flight at once")
    ap.add_argument("--ping", action="store_true", help="one move in flight, the ROUTER in another process "
                    "(over IPC): what a round trip costs when nothing batches it")
    args = ap.parse_args(argv)
    runs: dict[str, list[dict[str, float]]] = {"plain": [], "curve": []}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeat):
            for kind in (("plain", "curve") if i % 2 == 0 else ("curve", "plain")):
                if args.ping:
                    runs[kind].append(ping_run(kind == "curve", args.moves, Path(tmp)))
                else:
                    runs[kind].append(one_run(kind == "curve", args.moves, args.window, Path(tmp)))
    result: dict[str, Any] = {}
    for kind, values in runs.items():
        result[kind] = {k: round(statistics.median(v[k] for v in values), 1) for k in values[0]}
    result["curve_over_plain"] = {k: round(result["curve"][k] / result["plain"][k], 3)
                                  for k in result["plain"]}
    result["zmq"] = zmq.zmq_version()
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
