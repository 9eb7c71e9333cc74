#!/usr/bin/env python3
"""A bare sockjs-tornado echo server: the baseline `scripts/bench` compares Felt's relay cost against.

    python scripts/echo_server.py --port 8200        # SockJS at http://127.0.0.1:8200/echo

Framed like Felt: one SockJS message a frame. A message "J<room>" puts the connection in a room; every
other message is sent back, one `send` per member, to everybody in the sender's room (the sender
included: its copy is its "ack"), or to the sender alone when it is in no room. This is the same 1-in,
4-out pattern as a move at a table of four, with none of Felt's work (no auth, protocol validation,
ZeroMQ hop or game). sockjs-tornado as it ships, no adapter; loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import signal
import sys
from typing import Any

from sockjs.tornado import SockJSConnection, SockJSRouter
from tornado.web import Application

from common import loops
from common.config import EVENT_LOOPS, load


class EchoRouter(SockJSRouter):
    """sockjs-tornado's router as it ships, plus the rooms of its connections."""

    def __init__(self, connection: type[SockJSConnection], prefix: str,
                 user_settings: dict[str, Any]) -> None:
        super().__init__(connection, prefix, user_settings)
        self.rooms: dict[str, list[EchoConnection]] = {}


class EchoConnection(SockJSConnection):
    room: list[EchoConnection] | None = None

    def on_open(self, info: object) -> None:
        self.room = None

    def on_message(self, message: str) -> None:
        if message[:1] == "J":
            router = self.session.server
            assert isinstance(router, EchoRouter)  # the only router that builds these connections
            rooms = router.rooms
            self.room = rooms.setdefault(message[1:], [])
            self.room.append(self)
            return
        room = self.room
        if room is None:
            self.send(message)
            return
        for conn in room:
            conn.send(message)

    def on_close(self) -> None:
        if self.room is not None and self in self.room:
            self.room.remove(self)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=8200)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--event-loop", choices=EVENT_LOOPS, default=None,
                        help="the loop to run on (default: Felt's event_loop setting, as its realtime runs)")
    args = parser.parse_args(argv)

    async def serve() -> None:
        router = EchoRouter(EchoConnection, "/echo", {"disabled_transports": ["jsonp", "htmlfile"]})
        server = Application(router.urls).listen(args.port, address=args.host)
        print(f"READY echo http://{args.host}:{args.port}/echo", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        gc.freeze()  # as Felt's realtime process does after start-up
        await stop.wait()
        server.stop()

    loops.run(serve(), args.event_loop or load().event_loop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
