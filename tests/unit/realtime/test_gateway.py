"""The realtime side of the ZeroMQ link, against real ROUTER sockets playing game servers.

The ROUTERs are CurveZMQ servers with keys of their own in a temporary key directory, as game servers
are; the gateway pins those keys."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path
from typing import Any

import zmq

from common import curve
from common import protocol as p
from common.config import load
from realtime.gateway import MAX_HOPS, Gateway


def curve_router(ctx: zmq.Context[Any], key: curve.Key) -> tuple[zmq.Socket[Any], str]:
    """A ROUTER that is a CurveZMQ server with `key` (no allow-list: any client key is fine here)."""
    sock = ctx.socket(zmq.ROUTER)
    sock.setsockopt(zmq.LINGER, 0)
    assert key.secret is not None
    sock.curve_secretkey, sock.curve_publickey, sock.curve_server = key.secret, key.public, True
    port = sock.bind_to_random_port("tcp://127.0.0.1")
    return sock, f"tcp://127.0.0.1:{port}"


class Harness:
    """Two ROUTER sockets as game servers g1 and g2, and a gateway that collects what it delivers."""

    def __init__(self, **settings: Any) -> None:
        self.ctx = zmq.Context()
        self.keys = Path(tempfile.mkdtemp(prefix="felt-keys-"))
        self.routers: dict[str, zmq.Socket[Any]] = {}
        endpoints = {}
        for name in ("g1", "g2"):
            self.routers[name], endpoints[name] = curve_router(
                self.ctx, curve.own_key(self.keys, "gameserver", name))
        self.settings = load(env={"FELT_CONFIG": ""}, gameservers=endpoints, keys_dir=str(self.keys),
                             **{"heartbeat_interval": 0.1, "request_timeout": 0.5, **settings})
        self.delivered: list[tuple[list[str], p.ServerMessage]] = []
        self.frames: dict[str, list[str]] = {}  # connection -> the frames handed to it, as they came
        self.gateway = Gateway(self.settings, "rtX", self._deliver, ctx=self.ctx)

    def _deliver(self, conns: list[str], frame: str, close: bool) -> None:
        self.delivered.append((conns, p.decode_server(frame)))
        for conn in conns:
            self.frames.setdefault(conn, []).append(frame)

    def close(self) -> None:
        self.gateway.stop()
        for sock in self.routers.values():
            sock.close(linger=0)
        self.ctx.term()
        shutil.rmtree(self.keys, ignore_errors=True)

    async def server_recv(self, name: str, kind: type, timeout: float = 3.0) -> tuple[bytes, Any]:
        sock = self.routers[name]
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            try:
                peer, payload = sock.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                await asyncio.sleep(0.005)
                continue
            msg = p.decode_internal(payload)
            if isinstance(msg, kind):
                return peer, msg
        raise TimeoutError(f"{name} got no {kind.__name__}")

    def server_send(self, name: str, peer: bytes, msg: p.Msg) -> None:
        self.routers[name].send_multipart([peer, p.encode(msg)])

    async def delivered_to(self, conn: str, kind: type, timeout: float = 3.0) -> Any:
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            for conns, msg in self.delivered:
                if conn in conns and isinstance(msg, kind):
                    self.delivered.remove((conns, msg))
                    return msg
            await asyncio.sleep(0.005)
        raise TimeoutError(f"nothing of type {kind.__name__} for {conn}: {self.delivered}")


def scenario(test, before_start=lambda h: None, **settings: Any):
    """Run `test(h)` against a started gateway; `before_start(h)` may change the harness first;
    `settings` change the gateway's (the fake game servers never answer heartbeats: with the harness's
    0.1 s beat, a test of something else that takes over 0.3 s on a loaded machine finds them silent)."""
    async def body() -> None:
        h = Harness(**settings)
        before_start(h)
        h.gateway.start()
        try:
            await test(h)
        finally:
            h.close()

    asyncio.run(body())


def test_a_table_id_routes_to_its_game_server_and_the_answer_comes_back() -> None:
    async def test(h: Harness) -> None:
        h.gateway.request("rtX:1", 7, "ann", p.Join(table="g2-0004", req=3))
        peer, fwd = await h.server_recv("g2", p.Forward)
        assert peer and fwd.user == 7 and fwd.body == p.Join(table="g2-0004", req=3)
        h.server_send("g2", peer, p.Deliver(conns=["rtX:1"], frame=p.encode_str(p.Ack(req=3)), rid=fwd.rid))
        assert (await h.delivered_to("rtX:1", p.Ack)).req == 3
        assert fwd.rid not in h.gateway.pending

    scenario(test)


def test_a_frame_sent_as_its_own_part_is_delivered_as_it_is() -> None:
    async def test(h: Harness) -> None:
        h.gateway.request("rtX:1", 7, "ann", p.CreateTable(game="crazy_eights", seats=4, req=5))
        peer, fwd = await h.server_recv("g1", p.Forward)
        frame = p.encode(p.Ack(req=5, table="g1-0042"))
        parts = p.encode_delivers([(["rtX:1"], frame, fwd.rid, False, "g1-0042")])
        h.routers["g1"].send_multipart([peer, *parts])
        assert (await h.delivered_to("rtX:1", p.Ack)).table == "g1-0042"
        assert h.frames["rtX:1"] == [frame.decode()]
        assert h.gateway.tables_of["rtX:1"] == {"g1-0042"}  # from the header: the frame is not parsed

    scenario(test)


def test_a_server_that_reads_batches_gets_a_pass_of_requests_as_one_message() -> None:
    async def test(h: Harness) -> None:
        peer, _ = await h.server_recv("g1", p.Heartbeat)
        h.gateway.request("rtX:1", 7, "ann", p.Join(table="g1-0001", req=1))
        h.gateway.request("rtX:2", 8, "bob", p.Join(table="g1-0001", req=2))  # not batched yet
        got = [await h.server_recv("g1", p.Forward) for _ in range(2)]
        assert [f.body.req for _, f in got] == [1, 2]
        h.server_send("g1", peer, p.Heartbeat(sender="g1", batches=True))
        await asyncio.sleep(0.05)
        assert h.gateway.links["g1"].batches
        h.gateway.request("rtX:1", 7, "ann", p.Join(table="g1-0001", req=3))
        h.gateway.request("rtX:2", 8, "bob", p.Join(table="g1-0001", req=4))
        sock, forwards = h.routers["g1"], list[p.Forward]()
        while not forwards:  # heartbeats come between
            await asyncio.sleep(0.01)  # the gateway sends at the end of its loop pass
            assert sock.poll(2000)
            parts = sock.recv_multipart()
            forwards = [m for m in map(p.decode_internal, parts[1:]) if isinstance(m, p.Forward)]
        assert [f.body.req for f in forwards] == [3, 4], "one ZeroMQ message, one part a request"

    scenario(test)


def test_unknown_servers_and_silent_servers_get_clear_errors() -> None:
    async def test(h: Harness) -> None:
        # g9 is not linked: a live server is asked instead (it knows the owner, or that there is none)
        h.gateway.request("rtX:1", 7, "ann", p.Join(table="g9-0001", req=1))
        peer, fwd = await h.server_recv("g1", p.Forward)
        assert fwd.body.table == "g9-0001"
        h.server_send("g1", peer, p.Deliver(conns=["rtX:1"], rid=fwd.rid, frame=p.encode_str(
            p.Error(code=p.E_NO_TABLE, text="no table g9-0001", req=1))))
        assert (await h.delivered_to("rtX:1", p.Error)).code == p.E_NO_TABLE
        h.gateway.request("rtX:1", 7, "ann", p.Join(table="g1-0001", req=2))
        await h.server_recv("g1", p.Forward)  # received, never answered
        err = await h.delivered_to("rtX:1", p.Error)
        assert err.code in (p.E_TIMEOUT, p.E_UNAVAILABLE) and err.req == 2

    scenario(test)


def test_a_dead_game_server_is_noticed_its_tables_reported_and_its_return_too() -> None:
    async def test(h: Harness) -> None:
        h.gateway.request("rtX:1", 7, "ann", p.Join(table="g1-0001", req=1))
        peer, fwd = await h.server_recv("g1", p.Forward)
        h.server_send("g1", peer, p.Deliver(conns=["rtX:1"], frame=p.encode_str(p.Ack(req=1)), rid=fwd.rid))
        down = await h.delivered_to("rtX:1", p.TableStatus)  # g1 never heartbeats: dead after 3 x 0.1 s
        assert not h.gateway.links["g1"].alive
        assert down.table == "g1-0001" and not down.available
        h.gateway.request("rtX:1", 7, "ann", p.Leave(table="g1-0001", req=2))
        assert (await h.delivered_to("rtX:1", p.Error)).code == p.E_UNAVAILABLE  # at once, not a timeout
        for _ in range(50):  # the recreated socket says hello (the old one's hellos may still be queued)
            peer, _ = await h.server_recv("g1", p.Heartbeat)
            h.server_send("g1", peer, p.Heartbeat(sender="g1", boot="b2"))
            if h.gateway.links["g1"].alive:
                break
        up = await h.delivered_to("rtX:1", p.TableStatus)
        assert up.table == "g1-0001" and up.available

    scenario(test)


def test_a_game_server_that_cannot_write_gets_no_requests_until_it_can() -> None:
    async def test(h: Harness) -> None:
        h.gateway.request("rtX:1", 7, "ann", p.Join(table="g1-0001", req=1))
        peer, fwd = await h.server_recv("g1", p.Forward)
        h.server_send("g1", peer, p.Deliver(conns=["rtX:1"], frame=p.encode_str(p.Ack(req=1)), rid=fwd.rid))
        await h.delivered_to("rtX:1", p.Ack)
        h.server_send("g1", peer, p.Heartbeat(sender="g1", boot="b1", healthy=False))
        down = await h.delivered_to("rtX:1", p.TableStatus)
        assert down.table == "g1-0001" and not down.available
        h.gateway.request("rtX:1", 7, "ann", p.Leave(table="g1-0001", req=2))
        err = await h.delivered_to("rtX:1", p.Error)
        assert err.code == p.E_UNAVAILABLE and err.req == 2  # at once, and g1 never saw it
        h.gateway.request("rtX:1", 7, "ann", p.CreateTable(game="crazy_eights", seats=2, req=3))
        _, create = await h.server_recv("g2", p.Forward)  # new tables go to a server that can write
        assert create.body.req == 3
        h.server_send("g1", peer, p.Heartbeat(sender="g1", boot="b1", healthy=True))
        up = await h.delivered_to("rtX:1", p.TableStatus)
        assert up.available
        h.gateway.request("rtX:1", 7, "ann", p.Leave(table="g1-0001", req=4))
        _, leave = await h.server_recv("g1", p.Forward)
        assert leave.body == p.Leave(table="g1-0001", req=4)

    scenario(test)


def test_the_lobby_merges_every_live_server_and_pushes_changes() -> None:
    async def test(h: Harness) -> None:
        pushed: list[p.LobbyUpdate] = []
        h.gateway.lobby_push = pushed.append
        h.gateway.request("rtX:1", 7, "ann", p.ListTables(req=5))
        for name in ("g1", "g2"):
            peer, fwd = await h.server_recv(name, p.Forward)
            tables = [p.TableInfo(id=f"{name}-0001", game="hearts", seats=4, players=[None] * 4,
                                  status="waiting")]
            h.server_send(name, peer, p.Deliver(conns=["rtX:1"], frame=p.encode_str(p.Tables(tables=tables)),
                                                rid=fwd.rid))
        merged = await h.delivered_to("rtX:1", p.Tables)
        assert [t.id for t in merged.tables] == ["g1-0001", "g2-0001"] and merged.req == 5
        h.server_send("g2", peer, p.TablesChanged(removed=["g2-0001"]))
        for _ in range(100):
            if pushed:
                break
            await asyncio.sleep(0.01)
        assert pushed and pushed[0].removed == ["g2-0001"]

    scenario(test, heartbeat_interval=2.0)  # not a test of silence (6 s before one)


def test_a_process_squatting_on_a_game_servers_port_without_its_key_gets_nothing() -> None:
    async def test(h: Harness) -> None:
        endpoint = h.settings.gameservers["g1"]
        h.routers["g1"].close(linger=0)  # the real g1 goes away; something else takes its port
        impostor_keys = Path(tempfile.mkdtemp(prefix="felt-impostor-"))
        impostor = h.routers["g1"] = h.ctx.socket(zmq.ROUTER)
        try:
            impostor.setsockopt(zmq.LINGER, 0)
            own = curve.own_key(impostor_keys, "gameserver", "g1")
            assert own.secret is not None
            impostor.curve_secretkey, impostor.curve_publickey = own.secret, own.public
            impostor.curve_server = True
            for _ in range(100):  # the port is free once the closed socket lets go of it
                try:
                    impostor.bind(endpoint)
                    break
                except zmq.ZMQError:
                    await asyncio.sleep(0.02)
            for req in range(1, 6):
                h.gateway.request("rtX:1", 7, "ann", p.Chat(table="g1-0001", text="my hand is AK", req=req))
                await asyncio.sleep(0.1)
            assert not impostor.poll(500), "the impostor received something"
            errors = [m for conns, m in h.delivered if isinstance(m, p.Error)]
            assert errors and all(e.code in (p.E_TIMEOUT, p.E_UNAVAILABLE) for e in errors)
            assert not h.gateway.links["g1"].alive
        finally:
            shutil.rmtree(impostor_keys, ignore_errors=True)

    scenario(test)


def test_a_link_waits_for_its_game_servers_key_and_connects_once_there_is_one() -> None:
    async def test(h: Harness) -> None:
        assert not h.gateway.links["g2"].alive and h.gateway.links["g2"].sock is None
        h.gateway.request("rtX:1", 7, "ann", p.Join(table="g2-0001", req=1))
        assert (await h.delivered_to("rtX:1", p.Error)).code == p.E_UNAVAILABLE
        h.routers["g2"], endpoint = curve_router(h.ctx, curve.own_key(h.keys, "gameserver", "g2"))
        h.gateway.links["g2"].endpoint = endpoint
        peer, hello = await h.server_recv("g2", p.Heartbeat)  # connected within a heartbeat or two
        assert hello.sender == "rtX"
        h.server_send("g2", peer, p.Heartbeat(sender="g2", boot="b1"))
        for _ in range(100):
            if h.gateway.links["g2"].serving:
                break
            await asyncio.sleep(0.01)
        h.gateway.request("rtX:1", 7, "ann", p.Join(table="g2-0001", req=2))
        _, fwd = await h.server_recv("g2", p.Forward)
        assert fwd.body == p.Join(table="g2-0001", req=2)

    def g2_not_started(h: Harness) -> None:
        h.routers.pop("g2").close(linger=0)
        shutil.rmtree(h.keys / "gameserver" / "g2")  # no key of its own yet

    scenario(test, before_start=g2_not_started)


def test_a_moved_table_is_followed_to_its_new_owner_and_remembered() -> None:
    async def test(h: Harness) -> None:
        h.gateway.request("rtX:1", 7, "ann", p.Act(table="g1-0005", action=p.Draw(), seq=4, req=1))
        peer1, fwd = await h.server_recv("g1", p.Forward)
        h.server_send("g1", peer1, p.Moved(rid=fwd.rid, table="g1-0005", owner="g2"))
        peer2, again = await h.server_recv("g2", p.Forward)
        assert again == fwd, "the same request, re-sent as it was"
        h.server_send("g2", peer2, p.Deliver(conns=["rtX:1"], frame=p.encode_str(p.Ack(req=1)), rid=fwd.rid))
        assert (await h.delivered_to("rtX:1", p.Ack)).req == 1
        h.gateway.request("rtX:1", 7, "ann", p.Chat(table="g1-0005", text="hi", req=2))
        _, chat = await h.server_recv("g2", p.Forward)
        assert chat.body.req == 2, "the next request goes straight to the new owner"
        # a table that keeps moving is refused after a few hops, not chased for ever
        h.gateway.request("rtX:1", 7, "ann", p.Leave(table="g2-0009", req=3))
        at, peers = "g2", {"g1": peer1, "g2": peer2}
        for _ in range(MAX_HOPS + 1):
            _, fwd = await h.server_recv(at, p.Forward)
            other = "g1" if at == "g2" else "g2"
            h.server_send(at, peers[at], p.Moved(rid=fwd.rid, table="g2-0009", owner=other))
            at = other
        assert (await h.delivered_to("rtX:1", p.Error)).code == p.E_UNAVAILABLE

    scenario(test)


def test_tables_moved_are_routed_to_their_new_owner_and_their_players_resume() -> None:
    async def test(h: Harness) -> None:
        h.gateway.request("rtX:1", 7, "ann", p.Watch(table="g1-0002", req=1))
        peer1, fwd = await h.server_recv("g1", p.Forward)
        h.server_send("g1", peer1, p.Deliver(conns=["rtX:1"], frame=p.encode_str(p.Ack(req=1)), rid=fwd.rid))
        await h.delivered_to("rtX:1", p.Ack)
        h.server_send("g1", peer1, p.TablesMoved(tables=["g1-0002", "g1-0003"], owner="g2"))
        status = await h.delivered_to("rtX:1", p.TableStatus)
        assert status.table == "g1-0002" and status.available, "told to resume: only for the table it used"
        h.gateway.request("rtX:1", 7, "ann", p.Resume(table="g1-0002", req=2))
        _, resumed = await h.server_recv("g2", p.Forward)
        assert resumed.body.req == 2
        assert not [m for c, m in h.delivered if isinstance(m, p.TableStatus)], "nothing about g1-0003"

    scenario(test)


def test_a_table_refused_to_a_connection_tells_it_nothing_later() -> None:
    """A guessed or private table id answered with an error is not the connection's table: it hears of
    no hand-over or outage of it (which would tell it the table exists and where)."""
    async def test(h: Harness) -> None:
        h.gateway.request("rtX:1", 7, "ann", p.Watch(table="g1-0004", req=1))
        h.gateway.request("rtX:2", 8, "bob", p.Watch(table="g1-0004", req=1))
        answers = {}
        for _ in range(2):
            peer, fwd = await h.server_recv("g1", p.Forward)
            answers[fwd.conn] = (peer, fwd)
        peer, fwd = answers["rtX:1"]
        h.server_send("g1", peer, p.Deliver(conns=["rtX:1"], frame=p.encode_str(p.Error(
            code=p.E_NO_TABLE, text="no such table", req=1, table="g1-0004")), rid=fwd.rid))
        peer, fwd = answers["rtX:2"]
        h.server_send("g1", peer, p.Deliver(conns=["rtX:2"], frame=p.encode_str(p.Ack(req=1)), rid=fwd.rid))
        await h.delivered_to("rtX:1", p.Error)
        await h.delivered_to("rtX:2", p.Ack)
        h.server_send("g1", peer, p.TablesMoved(tables=["g1-0004"], owner="g2"))
        status = await h.delivered_to("rtX:2", p.TableStatus)
        assert status.table == "g1-0004"
        assert not [c for c, m in h.delivered if isinstance(m, p.TableStatus)], "rtX:1 was told nothing"

    scenario(test, heartbeat_interval=2.0)


def test_the_links_follow_the_registry() -> None:
    async def test(h: Harness) -> None:
        key = curve.own_key(h.keys, "gameserver", "g3")
        h.routers["g3"], endpoint = curve_router(h.ctx, key)
        servers = {name: (link.endpoint, None) for name, link in h.gateway.links.items()}
        h.gateway.set_servers({**servers, "g3": (endpoint, None)})
        peer, beat = await h.server_recv("g3", p.Heartbeat)
        assert beat.sender == "rtX", "a server that joined the registry is linked"
        h.server_send("g3", peer, p.Heartbeat(sender="g3", tables=0))
        h.server_send("g1", (await h.server_recv("g1", p.Heartbeat))[0], p.Heartbeat(sender="g1", tables=50))
        h.server_send("g2", (await h.server_recv("g2", p.Heartbeat))[0],
                      p.Heartbeat(sender="g2", tables=0, draining=True))
        await asyncio.sleep(0.1)
        h.gateway.request("rtX:1", 7, "ann", p.CreateTable(game="hearts", seats=4, req=1))
        _, create = await h.server_recv("g3", p.Forward)
        assert create.body.req == 1, "new tables go to the least-loaded server that is not draining"
        h.gateway.request("rtX:1", 7, "ann", p.Join(table="g1-0001", req=2))
        await h.server_recv("g1", p.Forward)
        h.gateway.set_servers({"g2": servers["g2"], "g3": (endpoint, None)})
        assert "g1" not in h.gateway.links
        assert (await h.delivered_to("rtX:1", p.Error)).code == p.E_UNAVAILABLE, "its pending request"

    scenario(test)
