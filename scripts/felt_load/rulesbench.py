"""The ceiling of one game-server process, with no network in between.

Three figures per game, each in one process and thread (run it pinned to one core). Time is the thread's
CPU time (`time.thread_time`), so a figure is actions per CPU-second of one core, and other processes
sharing the core (this machine is shared) slow the run down without changing the figure much:
  * rules: `apply` alone, replaying recorded games (the pure rules engine);
  * table: `Table.handle` of each `act` (validation, apply, log entry, one encoded view per seat);
  * server: `GameServer` fed encoded `Forward` messages for many tables of four, 256 a pass as its socket
    loop does, through its own handlers (`_on_message`, then `_commit_and_send`: the SQLite group commit
    and the encoded `Deliver`s) with a stub socket in place of ZeroMQ. Only the server's time is counted;
    the scripted players (reading the views, choosing moves) run between passes, off the clock. It also
    gives the CPU of a group commit by what it wrote (`commits`: moves only, a new table, a game's end).
    With `--pace N` its passes come at most N a second, the thread asleep in between as a live server
    waits for its socket between passes; back to back (the default) each pass finds the caches its last
    one left warm, which a live server at a low rate never does.
"""

from __future__ import annotations

import gc
import random
import sqlite3
import tempfile
import time
import types
from pathlib import Path
from typing import Any, cast

from sqlalchemy import insert

from common import protocol as p
from common.config import Settings
from common.models import User
from common.schema import migrate, open_db
from gameserver.rules import games
from gameserver.rules.base import Game
from gameserver.server import GameServer
from gameserver.store import Store
from gameserver.table import Sender, Table
from scripts.felt_load import strategy as st

#: Paced runs: rounds played before the clock starts, half the tables moving in each (about a game's
#: worth), so that games end spread over the run rather than together.
WARMUP_ROUNDS = 80


def _seats(game: Game[Any]) -> int:
    return 4 if game.min_seats <= 4 <= game.max_seats else game.max_seats


def _record_games(game: Game[Any], count: int, rng: random.Random) -> list[tuple[Any, list[tuple[int, Any]]]]:
    out = []
    seats = _seats(game)
    for _ in range(count):
        state = start = game.setup(seats, random.Random(rng.random()), game.check_options(seats, {}))
        moves: list[tuple[int, Any]] = []
        while game.outcome(state) is None and len(moves) < 5000:
            seat = game.to_act(state)[0]
            action = game.bot_move(state, seat, rng)
            moves.append((seat, action))
            state, _ = game.apply(state, seat, action)
        out.append((start, moves))
    return out


def rules_rate(game: Game[Any], seconds: float) -> dict[str, Any]:
    recorded = _record_games(game, 40, random.Random(7))
    n, t0, c0 = 0, time.perf_counter(), time.thread_time()
    apply = game.apply
    while time.perf_counter() - t0 < seconds:
        for start, moves in recorded:
            state = start
            for seat, action in moves:
                state, _ = apply(state, seat, action)
            n += len(moves)
    elapsed = time.thread_time() - c0
    return {"actions": n, "seconds": round(elapsed, 3), "actions_per_s": round(n / elapsed)}


def rules_replay(game: Game[Any], actions: int) -> dict[str, Any]:
    """Replay recorded games' moves through `apply` until `actions` are done: the same work on every run
    (`instrcount --rules`)."""
    recorded = _record_games(game, 40, random.Random(7))
    n = 0
    while n < actions:
        for start, moves in recorded:
            state = start
            for seat, action in moves[:actions - n]:
                state, _ = game.apply(state, seat, action)
            n += min(len(moves), actions - n)
            if n >= actions:
                break
    return {"actions": n}


def table_rate(game: Game[Any], seconds: float) -> dict[str, Any]:
    seats = _seats(game)
    rng = random.Random(11)
    n, busy, games_played = 0, 0.0, 0
    t_end = time.perf_counter() + seconds
    number = 0
    while time.perf_counter() < t_end:
        number += 1
        table = Table(f"b-{number}", game, seats=seats, options=game.check_options(seats, {}), creator=1,
                      seed=rng.getrandbits(64))
        who = [Sender(f"rt:{i}", i + 1, f"p{i}") for i in range(seats)]
        for i, w in enumerate(who):
            table.handle(w, p.Join(table=table.id, seat=i), 0, 0.0)
        table.handle(who[0], p.Start(table=table.id), 0, 0.0)
        while table.status == "playing" and n < 10_000_000:
            state = table.state.game
            if state is None or not table.state.to_act:
                break  # between hands (a cash table): this table is done
            seat = table.state.to_act[0]
            act = p.Act(table=table.id, action=game.bot_move(state, seat, rng), seq=table.seq, req=n)
            t0 = time.thread_time()
            table.handle(who[seat], act, n, 0.0)
            busy += time.thread_time() - t0
            n += 1
        games_played += 1
    return {"actions": n, "seconds": round(busy, 3), "actions_per_s": round(n / busy) if busy else None,
            "games": games_played}


class _StubSocket:
    """Takes the place of the ROUTER socket: keeps what the server sends."""

    closed = False

    def __init__(self) -> None:
        self.sent: list[list[bytes]] = []

    def send_multipart(self, frames: list[bytes], flags: int = 0) -> None:
        self.sent.append(frames)

    def getsockopt(self, option: int) -> int:
        return 0


def _messages(parts: list[bytes]) -> list[Any]:
    """The internal messages of one ZeroMQ message: this version's wire (a Deliver's frame in its own
    part), or an older one's (one whole message a part), so `instrcount --code` can drive either."""
    decode = getattr(p, "decode_parts", None)
    return list(decode(parts)) if decode is not None else [p.decode_internal(x) for x in parts]


def server_rate(game_name: str, seconds: float, tables: int = 200, batch: int = 256,
                actions: int | None = None, pace: float | None = None) -> dict[str, Any]:
    """Actions/s of one GameServer driven through its socket handlers (see the module docstring);
    `actions`: stop after that many instead of after `seconds` (a run that gives the same moves every
    time, for instruction counts under callgrind); `pace`: at most that many passes a second, asleep
    between them (the sleep is off the thread's clock)."""
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'games.db'}"
        settings = Settings(data_dir=tmp, database_url=url, max_tables=100 * tables, bot_delay=60.0,
                            entropy_wait=0.0)  # deals at once: the bench measures moves, not deals
        migrate(url)
        engine = open_db(url)
        if actions is not None:  # the same tables' seeds every run, so the same games (instrcount)
            import importlib

            fixed = random.Random(11)
            drawn = types.SimpleNamespace(randbits=fixed.getrandbits,
                                          token_hex=lambda n=16: fixed.randbytes(n).hex(),
                                          token_urlsafe=lambda n=16: fixed.randbytes(n).hex())
            for name in ("gameserver.server", "gameserver.opening"):  # where a checkout draws them
                try:
                    module = importlib.import_module(name)
                except ImportError:
                    continue
                if hasattr(module, "secrets"):
                    setattr(module, "secrets", drawn)  # noqa: B010  (not exported)
        # fenced as a live game server writes: its batches check they still own their tables
        server = GameServer(settings, "g1", "inproc://bench", Store(engine, owner="g1"), games())
        _settle_as_served()
        sock = _StubSocket()
        server.sock = sock  # type: ignore[assignment]  # a fake ROUTER socket
        commits = _time_commits(server.store)
        leave = getattr(server.store, "leave_checkpoints", None)
        if leave is not None:  # as a live server's store: its commits copy no WAL back (a thread does)
            leave()
        peer = b"rt1"
        seats = _seats(server.games[game_name])
        rng = random.Random(5)
        busy = 0.0
        passes = 0
        warmup = WARMUP_ROUNDS if pace else 0  # rounds left before the run is measured
        next_pass = time.perf_counter()
        now = time.time()

        def feed(msgs: list[p.Forward]) -> None:
            nonlocal busy, passes, next_pass
            payloads = [p.encode(m) for m in msgs]
            if pace and not warmup:
                wait = next_pass - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                next_pass = max(next_pass, time.perf_counter()) + 1 / pace  # the next one's slot
            passes += 1
            t0 = time.thread_time()
            for payload in payloads:
                server._on_message(peer, None, payload, now)
            server._commit_and_send()
            busy += time.thread_time() - t0

        def read_out() -> list[tuple[str, Any]]:
            out: list[tuple[str, Any]] = []
            for frames in sock.sent:
                for msg in _messages(frames[1:]):  # a pass's messages, batched
                    if isinstance(msg, p.Deliver):
                        frame = st.decode(msg.frame)
                        out.extend((c, frame) for c in msg.conns)
            sock.sent.clear()
            return out

        users: dict[str, tuple[int, str]] = {}  # conn -> (user, name)
        rid = 0

        # the players speak client protocol 2 as the browser's do (a move answered by its view), where the
        # checkout has it
        folds = {"fold": True} if "fold" in p.Forward.__struct_fields__ else {}

        def fwd(conn: str, body: Any) -> p.Forward:
            nonlocal rid
            rid += 1
            user, name = users[conn]
            return p.Forward(conn=conn, user=user, name=name, rid=rid, body=body, **folds)

        def open_tables(groups: list[list[str]]) -> dict[str, list[str]]:
            feed([fwd(g[0], p.CreateTable(game=game_name, seats=seats, req=1)) for g in groups])
            ids = {}
            for conn, frame in read_out():
                if isinstance(frame, p.Ack) and frame.table:
                    ids[conn] = frame.table
            feed([fwd(c, p.Join(table=ids[g[0]], seat=i, req=2))
                  for g in groups for i, c in enumerate(g) if i])
            read_out()
            feed([fwd(g[0], p.Start(table=ids[g[0]], req=3)) for g in groups])
            return {ids[g[0]]: g for g in groups}

        groups = []
        for t in range(tables):
            g = [f"rt1:{t * seats + i}" for i in range(seats)]
            for i, c in enumerate(g):
                users[c] = (t * seats + i + 1, f"u{t * seats + i + 1}")
            groups.append(g)
        with engine.begin() as db:  # the players exist, as the frontend registered them
            db.execute(insert(User), [{"id": user, "username": name, "display_name": name,
                                         "password_hash": "x", "chips": 0} for user, name in users.values()])
        open_tables(groups)
        n = games_done = 0
        waiting: dict[str, p.Forward] = {}  # table -> its next move
        # paced, the tables are first played apart (half of them move each round, off the clock), so
        # their games end at different times as a live server's do, not all in one measured burst
        started = time.perf_counter()
        t_end = started + seconds
        while warmup or ((n < actions) if actions is not None else (time.perf_counter() < t_end)):
            finished = []
            for conn, frame in read_out():
                if isinstance(frame, st.View) and frame.status == "playing" and frame.legal:
                    action = st.choose(frame.legal, rng)
                    if action is not None:
                        act = p.Act(table=frame.table, action=action, seq=frame.seq, req=4)
                        waiting[frame.table] = fwd(conn, act)
                elif isinstance(frame, p.GameOver):
                    finished.append((conn, frame.table))
            for _conn, table in finished:
                waiting.pop(table, None)
            if finished:
                leaves = [fwd(c, p.Leave(table=t, req=5)) for c, t in finished]
                feed(leaves)
                server._prune(now)  # as its heartbeat loop does: forget finished tables nobody watches
                read_out()
                done_tables = {t for _, t in finished}
                games_done += len(done_tables)
                regroup = [g for g in groups if any(c for c, t in finished if c == g[0])]
                open_tables(regroup)
            if warmup:
                items = [f for f in waiting.values() if rng.random() < 0.5]
                warmup -= 1
                if not warmup:  # the warm-up is over: the run starts from here
                    busy, passes, n, games_done = 0.0, 0, 0, 0
                    for kind in commits.values():
                        kind[:] = [0, 0.0]
                    started = time.perf_counter()
                    t_end = started + seconds
            else:
                items = list(waiting.values())
            for item in items:
                waiting.pop(cast(p.Act, item.body).table)
            if not items:
                continue
            for i in range(0, len(items), batch):
                feed(items[i:i + batch])
            if not warmup:
                n += len(items)
        return {"actions": n, "seconds": round(busy, 3), "actions_per_s": round(n / busy) if busy else None,
                "games": games_done, "tables": tables, "passes": passes, "pace": pace,
                "wall": round(time.perf_counter() - started, 3),
                "commits": {kind: {"n": count, "cpu_us": round(spent / count * 1e6)}
                            for kind, (count, spent) in commits.items() if count},
                # the log's size over the commits counted, unless a warm-up wrote some of it uncounted
                **({} if pace else _wal_pages(Path(tmp) / "games.db", sum(c for c, _ in commits.values())))}


def _settle_as_served() -> None:
    """The garbage collector as the checkout's game server sets it once started: `common.garbage`'s
    settings, or (a checkout from before it) start-up frozen only."""
    try:
        from common import garbage
    except ImportError:
        gc.freeze()
    else:
        garbage.settle()


def _wal_pages(path: Path, commits: int) -> dict[str, float]:
    """Pages written to SQLite's log per group commit, from its size: a true count only while no
    checkpoint ran (one starts the log again from its beginning). The store here leaves them to a thread
    this bench does not start; a checkout's store from before `leave_checkpoints` ran them in commits."""
    wal = path.with_name(path.name + "-wal")
    if not commits or not wal.exists():
        return {}
    with sqlite3.connect(path) as conn:
        page = int(conn.execute("PRAGMA page_size").fetchone()[0])
    conn.close()
    frames = (wal.stat().st_size - 32) / (page + 24)  # the log's header, then a header and a page a frame
    return {"wal_pages_per_commit": round(frames / commits, 2)}


def _time_commits(store: Store) -> dict[str, list[Any]]:
    """Time each of `store`'s group commits (thread CPU) by what its batch held: a finished game's
    record ("game_end"), a new table's row ("new_table"), or only moves and statuses ("moves")."""
    spent: dict[str, list[Any]] = {"moves": [0, 0.0], "new_table": [0, 0.0], "game_end": [0, 0.0]}
    flush = store.flush

    def timed() -> None:
        kind = "game_end" if store._finished else "new_table" if store._new_tables else "moves"
        started = time.thread_time()
        try:
            flush()
        finally:
            spent[kind][0] += 1
            spent[kind][1] += time.thread_time() - started

    store.flush = timed  # type: ignore[method-assign]
    return spent


def run(seconds: float = 2.0) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, game in games().items():
        out[name] = {"rules": rules_rate(game, seconds), "table": table_rate(game, seconds)}
    out["crazy_eights"]["server"] = server_rate("crazy_eights", seconds * 2)
    return out


if __name__ == "__main__":
    import argparse
    import json

    ap = argparse.ArgumentParser(description="actions/s of the rules, the table host and one game server")
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--server-only", action="store_true", help="only the game server (Crazy Eights)")
    ap.add_argument("--actions", type=int, help="with --server-only: stop after this many actions")
    ap.add_argument("--tables", type=int, default=200, help="with --server-only: tables of four")
    ap.add_argument("--batch", type=int, default=256, help="with --server-only: moves per pass at most")
    ap.add_argument("--pace", type=float, help="with --server-only: passes a second at most, asleep between "
                    "them (as a live server at that rate); default: back to back")
    ap.add_argument("--rules", metavar="GAME", help="with --actions: only that game's rules, replaying "
                    "recorded games for that many moves (a fixed amount of work)")
    args = ap.parse_args()
    if args.rules:
        print(json.dumps(rules_replay(games()[args.rules], args.actions or 10_000)))
    elif args.server_only:
        print(json.dumps(server_rate("crazy_eights", args.seconds, args.tables, args.batch, args.actions,
                                     args.pace)))
    else:
        print(json.dumps(run(args.seconds)))
