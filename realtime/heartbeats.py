"""Every SockJS session's heartbeat from one timer: a wheel of slots, one turned per tick.

A session beats every `interval` seconds while a transport is attached. One Tornado `PeriodicCallback`
per session (what sockjs does, and what the adapter did) costs a timer handle on the loop for each: about
2.4 KiB of a realtime process's memory per idle player, measured here with uvloop (a `call_later` alone
is 1.7 KiB). Here a session is an entry in one of the wheel's slots (a set): each tick beats the sessions
of the next slot, so each beats once per turn of the wheel, `interval` seconds apart (within one tick),
and the loop holds one timer however many sessions there are. Starting, stopping and restarting a
session's beat moves an entry between sets.
"""

from __future__ import annotations

import logging
import math
from typing import Protocol

log = logging.getLogger("felt.realtime.heartbeats")

#: Ticks per heartbeat interval at least (a beat is late or early by at most one tick), and the longest
#: tick in seconds.
MIN_SLOTS = 5
MAX_TICK = 1.0


class Beating(Protocol):
    def beat(self) -> None:
        """Send a heartbeat (or stop beating, if the session can no longer take one)."""


class Heartbeats:
    """The wheel. `tick()` turns it by one slot; its owner calls it every `tick_seconds` (one timer)."""

    def __init__(self, interval: float) -> None:
        if interval <= 0:
            raise ValueError("the heartbeat interval must be positive")
        slots = max(MIN_SLOTS, math.ceil(interval / MAX_TICK))
        self.tick_seconds = interval / slots
        self._slots: list[set[Beating]] = [set() for _ in range(slots)]
        self._slot_of: dict[Beating, int] = {}
        self._hand = 0  # the slot the next tick beats

    def start(self, session: Beating) -> None:
        """Beat `session` from a whole interval from now (a restart begins the interval again)."""
        self.stop(session)
        slot = (self._hand - 1) % len(self._slots)  # the last the wheel reaches: one turn away
        self._slots[slot].add(session)
        self._slot_of[session] = slot

    def stop(self, session: Beating) -> None:
        slot = self._slot_of.pop(session, None)
        if slot is not None:
            self._slots[slot].discard(session)

    def beating(self, session: Beating) -> bool:
        return session in self._slot_of

    def __len__(self) -> int:
        return len(self._slot_of)

    def tick(self) -> None:
        """Beat the sessions of the next slot (each may stop its own beat, or another's, meanwhile)."""
        slot = self._slots[self._hand]
        self._hand = (self._hand + 1) % len(self._slots)
        for session in list(slot):
            if session in slot:
                try:
                    session.beat()
                except Exception:  # one session's failure must not cost the others their beat
                    log.exception("a heartbeat failed")
                    self.stop(session)
