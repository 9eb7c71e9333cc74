"""The one reducer of a table: its durable state, and `evolve`, the only code that changes that state.

`TableState` is everything a table's log determines: seats (who, stack, away), the rules' state, the
sequence number, whose turn began when, the last move of each player (to answer retries), the hand
number and button of a cash table. `evolve(config, state, entry)` returns the next state and what the
rules said happened; live play, recovery, replay and hand-over all fold the same entries with it, so
there is no second interpreter. A snapshot is that fold up to a point, stored as JSON.

Pure: no I/O, no clock; chance only from the table's secret seed. What is not durable (which
connection watches which seat, deadlines, spectators) belongs to the host in `table.py`.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

import msgspec

from common import protocol as p
from common.policy import DEFAULT as DEFAULT_POLICY
from common.policy import TablePolicy
from gameserver import entries as e
from gameserver import policy as pol
from gameserver.rules.base import CashGame, Event, Game

#: Consecutive clock expiries after which a bot plays for the seat until its player acts again (the
#: default of the table policy's `away_after`).
AWAY_AFTER_TIMEOUTS = DEFAULT_POLICY.away_after


@dataclass(frozen=True)
class TableConfig:
    """What a table was created with; it never changes. `seed` and `invite` (a private table's invite
    code) are secret."""

    id: str
    game: Game[Any]
    seats: int
    options: Mapping[str, Any]
    seed: int
    creator: int = 0
    clock: float | None = None
    public: bool = True
    rated: bool = True  # its finished games change ratings (common.ratings)
    invite: str = ""
    policy: TablePolicy = DEFAULT_POLICY  # time banks, absence and sitting out (common.policy)

    @property
    def cash(self) -> bool:
        """Hands follow one another with stacks bought in from balances (the game declares it)."""
        return self.game.series == "cash"

    @property
    def cash_game(self) -> CashGame[Any]:
        return cast("CashGame[Any]", self.game)


class SeatState(msgspec.Struct, frozen=True, omit_defaults=True):
    user: int  # 0 for a bot
    name: str
    bot: bool = False
    stack: int = 0  # cash tables: chips in front of the player between hands
    away: bool = False  # a bot plays for this human until they are back
    leaving: bool = False  # cash tables: stands up when the current hand ends
    timeouts: int = 0  # consecutive clock expiries
    bank: float = 0.0  # seconds left in the time bank (drawn on once the turn clock runs out)
    dbank: float = 0.0  # seconds left in the disconnection bank
    sitting_out: bool = False  # cash tables: dealt out of the next hands until back


class LastAct(msgspec.Struct, frozen=True, array_like=True):
    """A player's last applied move: a retry with the same request id and seq is answered, not applied."""

    req: int
    from_seq: int | None
    action: Any  # the action as builtins


class TableState(msgspec.Struct, frozen=True, omit_defaults=True):
    seats: tuple[SeatState | None, ...]
    game: Any = None  # the rules' state; None before the first deal
    seq: int = 0  # entries applied so far
    closed: bool = False
    hand_no: int = 0  # cash tables
    button: int | None = None  # cash tables
    game_start: int = 0  # seq of the entry that dealt the current match or hand
    to_act: tuple[int, ...] = ()
    turn_began: dict[int, int] = {}  # seat -> seq at which its current turn began
    last_acts: dict[int, LastAct] = {}  # user -> their last applied move
    clocked: int | None = None  # the seat the clock made the last move for, if it did


class Corrupt(Exception):
    """An entry that cannot apply to this state: the log and the state disagree."""


def new_state(config: TableConfig) -> TableState:
    return TableState(seats=(None,) * config.seats)


def over(config: TableConfig, state: TableState) -> bool:
    """A finished match (a cash table is never over: hand follows hand), or a closed table."""
    if state.closed:
        return True
    return not config.cash and state.game is not None and config.game.outcome(state.game) is not None


def in_hand(config: TableConfig, state: TableState) -> bool:
    return state.game is not None and config.game.outcome(state.game) is None


def funded(state: TableState) -> list[int]:
    """Cash tables: the seats that would be dealt into the next hand."""
    return [i for i, s in enumerate(state.seats)
            if s is not None and s.stack > 0 and not s.leaving and not s.sitting_out]


def status(config: TableConfig, state: TableState) -> str:
    """What the lobby shows: waiting, playing, over (a finished match) or closed."""
    if state.closed:
        return "closed"
    if config.cash:
        return "playing" if in_hand(config, state) or len(funded(state)) >= 2 else "waiting"
    if state.game is None:
        return "waiting"
    return "over" if config.game.outcome(state.game) is not None else "playing"


def seat_of(state: TableState, user: int) -> int | None:
    for i, s in enumerate(state.seats):
        if s is not None and not s.bot and s.user == user:
            return i
    return None


def stacks(config: TableConfig, state: TableState) -> list[int]:
    """Chips in front of each seat: live during a hand (for the seats dealt into it), settled otherwise."""
    settled = [s.stack if s else 0 for s in state.seats]
    if config.cash and in_hand(config, state):
        live, dealt = config.cash_game.seat_stacks(state.game), config.cash_game.dealt_in(state.game)
        return [live[i] if dealt[i] else settled[i] for i in range(len(settled))]
    return settled


def hand_setup(config: TableConfig, hand: e.HandDealt) -> Any:
    """Cash tables: hand `n` dealt from its own deck (derived from the secret seed and the number)."""
    options = dict(config.options, stacks=hand.stacks, button=hand.button)
    return config.game.setup(config.seats, random.Random(f"{config.seed}:{hand.n}"), options)


def _seat(state: TableState, seat: int) -> SeatState:
    occupant = state.seats[seat] if 0 <= seat < len(state.seats) else None
    if occupant is None:
        raise Corrupt(f"seat {seat} is empty")
    return occupant


def _with_seat(seats: tuple[SeatState | None, ...], seat: int, value: SeatState | None) -> tuple[
        SeatState | None, ...]:
    return seats[:seat] + (value,) + seats[seat + 1:]


def evolve(config: TableConfig, state: TableState, entry: e.Entry) -> tuple[TableState, list[Event]]:
    """The state after `entry`, and the events the rules reported. Raises IllegalMove for an `Acted`
    the rules refuse (the caller's decision then fails and nothing changes), Corrupt for an entry that
    does not fit the state at all (a log from somewhere else), and never changes `state`."""
    if state.closed:
        raise Corrupt(f"table {config.id} is closed; no entry may follow")
    replace = msgspec.structs.replace
    events: list[Event] = []
    seats = state.seats
    changes: dict[str, Any] = {}
    if isinstance(entry, e.Acted):
        if not in_hand(config, state):
            raise Corrupt(f"a move at seq {state.seq} with no game in progress")
        game, events = config.game.apply(state.game, entry.seat, entry.action)
        occupant = _seat(state, entry.seat)
        if entry.by == "clock":  # the clock's moves one after another for a seat (draws, then a pass) are
            timeouts = occupant.timeouts + (state.clocked != entry.seat)  # one time-out, not several
            away = occupant.away or timeouts >= config.policy.away_after
            occupant = replace(occupant, timeouts=timeouts, away=away)
        elif entry.by == "player":
            # playing themselves again: at a match table that also ends sitting out
            occupant = replace(occupant, timeouts=0, away=occupant.away and occupant.leaving,
                               sitting_out=occupant.sitting_out and config.cash)
        seats = _with_seat(seats, entry.seat, occupant)
        changes["clocked"] = entry.seat if entry.by == "clock" else None
        if entry.req is not None and entry.user is not None:
            last = dict(state.last_acts)
            last[entry.user] = LastAct(entry.req, entry.from_seq, p.to_builtins(entry.action))
            changes["last_acts"] = last
        if config.cash and config.game.outcome(game) is not None:
            seats = _settled(config, game, seats)
        if pol.new_deal(events):
            seats = pol.refilled(config.policy, seats)
        changes["game"] = game
    elif isinstance(entry, e.Seated):
        if not 0 <= entry.seat < config.seats or seats[entry.seat] is not None:
            raise Corrupt(f"seat {entry.seat} is not free")
        seats = _with_seat(seats, entry.seat, pol.seated(config.policy, SeatState(
            user=entry.user, name=entry.name, bot=entry.bot, stack=entry.stack)))
    elif isinstance(entry, e.Unseated):
        _seat(state, entry.seat)
        seats = _with_seat(seats, entry.seat, None)
    elif isinstance(entry, e.Away):
        seats = _with_seat(seats, entry.seat, replace(_seat(state, entry.seat), away=True))
    elif isinstance(entry, e.Back):
        seats = _with_seat(seats, entry.seat, replace(_seat(state, entry.seat), away=False, timeouts=0))
    elif isinstance(entry, e.Leaving):
        seats = _with_seat(seats, entry.seat, replace(_seat(state, entry.seat), away=True, leaving=True))
    elif isinstance(entry, e.StoodUp):
        gone = _seat(state, entry.seat)
        seats = _with_seat(seats, entry.seat, SeatState(user=0, name=f"{gone.name} (bot)", bot=True))
    elif isinstance(entry, e.Started):
        if state.game is not None:
            raise Corrupt("the match was already dealt")
        game = config.game.setup(config.seats, random.Random(config.seed), config.options)
        events = list(config.game.opening_events(game))
        seats = pol.refilled(config.policy, seats)
        changes.update(game=game, game_start=state.seq + 1, clocked=None)
    elif isinstance(entry, e.HandDealt):
        if in_hand(config, state):
            raise Corrupt("a hand was dealt while another was in progress")
        game = hand_setup(config, entry)
        events = list(config.game.opening_events(game))
        seats = pol.refilled(config.policy, seats)
        changes.update(game=game, game_start=state.seq + 1, hand_no=entry.n, button=entry.button,
                       clocked=None)
    elif isinstance(entry, (e.SatOut, e.SatIn)):
        seats = _with_seat(seats, entry.seat, replace(_seat(state, entry.seat),
                                                      sitting_out=isinstance(entry, e.SatOut)))
    elif isinstance(entry, e.Banked):
        seats = _with_seat(seats, entry.seat, pol.drawn(_seat(state, entry.seat), entry))
    elif isinstance(entry, e.ToppedUp):
        occupant = _seat(state, entry.seat)
        if occupant.user != entry.user or entry.amount <= 0 or not config.cash:
            raise Corrupt(f"a top-up of seat {entry.seat} that does not fit it")
        if in_hand(config, state) and config.cash_game.dealt_in(state.game)[entry.seat]:
            raise Corrupt(f"a top-up of seat {entry.seat} in the middle of its hand")
        seats = _with_seat(seats, entry.seat, replace(occupant, stack=occupant.stack + entry.amount))
    elif isinstance(entry, e.Closed):
        changes["closed"] = True
    else:
        raise Corrupt(f"unknown entry {entry!r}")
    seq = state.seq + 1
    game = changes.get("game", state.game)
    to_act = () if game is None or config.game.outcome(game) is not None else config.game.to_act(game)
    # a seat that acts and is to act again (a draw, then the play; the last call of a round, then first
    # on the next street) begins a new turn: a view from before its move is stale
    again = entry.seat if isinstance(entry, e.Acted) and entry.seat in to_act else None
    if to_act != state.to_act or "game_start" in changes or again is not None:
        began = {} if "game_start" in changes else state.turn_began
        changes["turn_began"] = {s: began[s] if s in state.to_act and s in began and s != again else seq
                                 for s in to_act}
        changes["to_act"] = to_act
    return replace(state, seats=seats, seq=seq, **changes), events


def _settled(config: TableConfig, game: Any, seats: tuple[SeatState | None, ...]) -> tuple[
        SeatState | None, ...]:
    """Cash tables: the stacks a finished hand leaves in front of the seats dealt into it."""
    final = config.cash_game.seat_stacks(game)
    dealt = config.cash_game.dealt_in(game)
    return tuple(msgspec.structs.replace(s, stack=final[i]) if s is not None and dealt[i] else s
                 for i, s in enumerate(seats))


def fold(config: TableConfig, state: TableState, log: Iterable[e.Entry]) -> TableState:
    """`state` with every entry of `log` applied in order (recovery and replay)."""
    for entry in log:
        state, _ = evolve(config, state, entry)
    return state


# ---- snapshots -----------------------------------------------------------------------------------

_snapshot_encoder = msgspec.json.Encoder()
_snapshot_decoder = msgspec.json.Decoder(TableState)


def snapshot(state: TableState) -> bytes:
    """The state as JSON (it holds the dealt cards: it never leaves the game-server tier)."""
    return _snapshot_encoder.encode(state)


def restore(config: TableConfig, raw: bytes | str) -> TableState:
    """A state from `snapshot`'s JSON, the rules' state converted back to the game's own type."""
    state = _snapshot_decoder.decode(raw)
    if state.game is None:
        return state
    return msgspec.structs.replace(state, game=msgspec.convert(state.game, config.game.state_type))


def chips_on_table(state: TableState) -> int:
    """Every chip this table holds. A hand only moves chips among the seats dealt into it (their stacks
    as dealt stay in the seats until it settles), so this is the seats' stacks, in a hand or not."""
    return sum(s.stack for s in state.seats if s is not None)
