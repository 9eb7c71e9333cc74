"""Spectator delay: what a table's spectators are sent, held back on the game server.

A table created with a spectator delay never sends a spectator a frame sooner than the delay allows:
a second account watching cannot help a player. The delay is either a number of seconds or one whole
hand (cash tables): a hand's frames are kept until the next hand is dealt, then played out with the
spacing they had (the last hand of a table that ends is never shown). It is enforced here, on the
game server, never in the client.

The line takes a frame only once the pass that made it has committed (the server hands it over after
the flush), so nothing a rolled-back pass said reaches spectators later. Someone who starts watching,
or resumes watching, is sent the latest frames the line has released (never a live view), and then
every frame as it comes due. The line is memory only: after a restart or a hand-over it starts empty,
and a spectator sees the table as it was when the new line's first frame comes due.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Literal

#: A table's setting: seconds (0: live) or "hand".
Delay = float | Literal["hand"]
#: Most seconds a table may hold spectators back.
MAX_DELAY_SECONDS = 600.0
#: Most frames one table's line holds (a runaway table must not grow the game server without bound).
MAX_HELD = 4000


@dataclass
class _Held:
    made: float  # when its pass committed
    hand: int
    frame: str
    view: bool  # a full view: what a newcomer is sent starts again from it
    due: float | None  # None: waiting for its hand to end ("hand" mode)


class DelayLine:
    """One table's held spectator frames, in the order they were made."""

    def __init__(self, delay: Delay) -> None:
        if delay != "hand" and not 0 < float(delay) <= MAX_DELAY_SECONDS:
            raise ValueError(f"a spectator delay is 0–{MAX_DELAY_SECONDS:g} seconds, or 'hand'")
        self.delay = delay
        self._held: deque[_Held] = deque()
        self._last_due = 0.0
        #: What a new spectator is sent first: the latest released view, and what followed it.
        self.latest: list[str] = []

    def hold(self, frame: str, now: float, hand: int, view: bool) -> None:
        """A committed spectator frame (`view`: a full view, which restarts what a newcomer is sent)."""
        if self.delay == "hand":
            self._hand_over(hand, now)
            due = None
        else:
            due = now + float(self.delay)
        if len(self._held) >= MAX_HELD:  # drop the oldest: spectators skip ahead rather than grow memory
            self._held.popleft()
        self._held.append(_Held(now, hand, frame, view, due))

    def _hand_over(self, hand: int, now: float) -> None:
        """A frame of `hand` came: every earlier hand's frames get their release times."""
        waiting = [h for h in self._held if h.due is None and h.hand < hand]
        if not waiting:
            return
        start = waiting[0].made
        for held in waiting:  # played out with the spacing they had, never overtaking each other
            held.due = self._last_due = max(now + (held.made - start), self._last_due)

    def next_due(self) -> float | None:
        first = self._held[0] if self._held else None
        return first.due if first is not None else None

    def release(self, now: float) -> list[str]:
        """The frames due by `now`, oldest first; they become what a newcomer is sent."""
        out: list[str] = []
        while self._held and self._held[0].due is not None and self._held[0].due <= now:
            held = self._held.popleft()
            if held.view:
                self.latest = []
            self.latest.append(held.frame)
            out.append(held.frame)
        return out
