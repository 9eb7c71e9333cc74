"""What a table host takes and gives back: who sent a request, the frames to send, the record of a
finished game, a request's result (frames, log entries, chip moves), a refusal, and a checkpoint to roll
back to; and which of a game's events its result counts (`TALLIED`, `tally`: the figures a finished
game's players get in their profiles). Plain data, no behaviour beyond reading it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from common import protocol as p
from gameserver import engine as en
from gameserver import entries as e
from gameserver.rules.base import Event, Outcome


@dataclass(frozen=True)
class Sender:
    conn: str
    user: int
    name: str
    fold: bool = False  # speaks protocol 2: an applied act is answered by its view (`View.req`), no ack


@dataclass(frozen=True)
class Answer:
    """An applied act whose answer is the mover's view of the pass (protocol 2), not an ack before it."""

    who: Sender
    req: p.Act
    rid: int
    seat: int


@dataclass(slots=True)
class Outbound:
    """An encoded frame for some connections; `rid` marks it as the answer to that request (`req`)."""

    conns: list[str]
    frame: str
    rid: int | None = None
    close: bool = False  # close those connections after sending
    req: int | None = None  # the client's request id, to answer it if the pass fails to commit
    table: str | None = None  # the table whose change this frame tells of (set by the server)
    #: Spectator delay (`gameserver.spectating`): "" send now; HOLD_VIEW / HOLD_EVENT: a spectator frame
    #: for the table's delay line once committed; HOLD_NEWCOMER: these spectators are sent what the
    #: line last released instead (no frame of its own).
    hold: str = ""


HOLD_VIEW, HOLD_EVENT, HOLD_NEWCOMER = "view", "event", "newcomer"


@dataclass(frozen=True)
class GameRecord:
    """A finished match (or, at a cash table, hand): who sat where, the result and the moves."""

    outcome: Outcome
    players: list[dict[str, Any]]
    actions: list[dict[str, Any]]
    #: The entry that dealt it and its seq, the table's state right after it (None if not known) and
    #: every entry since: what `gameserver.history` folds for replays.
    deal: tuple[int, e.Started | e.HandDealt] | None = None
    dealt: en.TableState | None = None
    entries: list[e.AnyEntry] = field(default_factory=list)
    #: The game's events of the kinds its result counts (`TALLIED`), kept as it was
    #: played, from its deal on (None: not known, after a recovery from a later snapshot).
    tallied: list[Event] | None = None


@dataclass
class Result:
    out: list[Outbound] = field(default_factory=list)
    log: list[e.AnyEntry] = field(default_factory=list)  # entries to append to the durable log, in order
    first_seq: int = 0  # the seq of log[0]
    finished: GameRecord | None = None  # set when this call ended the game (or a hand, at a cash table)
    #: A sit-and-go that ended in this call: its finished-games record (`gameserver.sitandgo`).
    tournament: dict[str, Any] | None = None

    @property
    def chips(self) -> list[tuple[int, int]]:
        """(account, +/- chips) the entries move between balances and the table (0: the house)."""
        return [m for entry in self.log for m in e.chip_moves(entry)]


class Refused(Exception):
    def __init__(self, code: str, text: str) -> None:
        super().__init__(text)
        self.code = code
        self.text = text


@dataclass
class Checkpoint:
    """What `rollback` restores: the state as committed and the bindings that went with it."""

    state: en.TableState
    conns: dict[int, str]
    gone_since: dict[int, float]
    spectators: dict[str, Sender]
    game_actions: list[dict[str, Any]]
    extra: Any = None  # what a kind of table adds (a cash table: when the next hand is due)
    deal_due: float | None = None  # when an announced fair deal is dealt at the latest


#: The kinds of event `tally` counts: what the table host keeps of a game's events for its result.
TALLIED = frozenset({"hand_over", "deal_scored"})


def tally(stats: dict[int, dict[str, int]], events: Iterable[Event]) -> None:
    """Profile figures: the chips a seat won in a hand (its biggest pot), the deals it shot the moon."""
    for ev in events:
        if ev.kind == "hand_over":
            for seat, won in enumerate(getattr(ev, "payouts", ())):
                if won:
                    stats.setdefault(seat, {})["pot"] = won
        elif ev.kind == "deal_scored":
            moon = getattr(ev, "moon", None)
            if moon is not None:
                mine = stats.setdefault(moon, {})
                mine["moons"] = mine.get("moons", 0) + 1
