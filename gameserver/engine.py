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

import functools
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

import msgspec

from common import fairness
from common import protocol as p
from common import sitandgo as sg
from common.policy import DEFAULT as DEFAULT_POLICY
from common.policy import TablePolicy
from common.views import FairReveal
from gameserver import entries as e
from gameserver import policy as pol
from gameserver import sitandgo_state as sgs
from gameserver.rules.base import CashGame, Event, Game, Redeals

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

    @functools.cached_property
    def sit_and_go(self) -> sg.SitAndGo | None:
        """A sit-and-go tournament's settings (kept in the options), or None: a cash table or a match."""
        raw = self.options.get("sit_and_go")
        return None if raw is None else msgspec.convert(raw, sg.SitAndGo)

    @property
    def cash_game(self) -> CashGame[Any]:
        return cast("CashGame[Any]", self.game)

    @functools.cached_property
    def redeals(self) -> Redeals | None:
        """The game as a `Redeals` (a match of several deals: Hearts), or None. Worked out once: a
        runtime check against a Protocol costs tens of microseconds, too much for every move."""
        return cast(Redeals, self.game) if isinstance(self.game, Redeals) else None


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


class FairDeal(msgspec.Struct, frozen=True, omit_defaults=True):
    """The table's current fair deal: announced (`Committed`), taking contributions until it is dealt,
    revealed once it ends. `values`: the seats whose player sent one; `context` what the game's deal
    used besides the deck (for the reveal)."""

    deal: int
    commitment: str
    seats: tuple[int, ...]
    values: dict[int, str] = {}
    dealt: bool = False
    revealed: bool = False
    context: dict[str, Any] = {}


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
    fair: FairDeal | None = None  # the current (or last) fair deal
    reveal: FairReveal | None = None  # the last revealed deal
    clocked: int | None = None  # the seat the clock made the last move for, if it did
    tourney: sgs.SitAndGoState | None = None  # a sit-and-go's entrants, levels and places


class Corrupt(sgs.Corrupt):
    """An entry that cannot apply to this state: the log and the state disagree."""


def new_state(config: TableConfig) -> TableState:
    tourney = sgs.SitAndGoState() if config.sit_and_go is not None else None
    return TableState(seats=(None,) * config.seats, tourney=tourney)


def over(config: TableConfig, state: TableState) -> bool:
    """A finished match (a cash table is never over: hand follows hand), or a closed table."""
    if state.closed or (state.tourney is not None and state.tourney.ended):
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
    if state.tourney is not None:
        return "over" if state.tourney.ended else "playing" if state.tourney.started else "waiting"
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


def hand_setup(config: TableConfig, hand: e.HandDealt, rng: random.Random | None = None) -> Any:
    """Cash tables: hand `n` dealt from `rng` (its fair deal's), or in older logs from its own deck derived
    from the secret seed and the number."""
    options = dict(config.options, stacks=hand.stacks, button=hand.button)
    if hand.blinds is not None:  # a sit-and-go's level (its settings are the host's, not the rules')
        options.update(small_blind=hand.blinds[0], big_blind=hand.blinds[1])
        options.pop("sit_and_go", None)
    return config.game.setup(config.seats, rng or random.Random(f"{config.seed}:{hand.n}"), options)


def pending_deal(state: TableState) -> FairDeal | None:
    """The announced deal still taking contributions, if any."""
    fair = state.fair
    return fair if fair is not None and not fair.dealt else None


def next_deal_number(state: TableState) -> int:
    return state.fair.deal + 1 if state.fair is not None else 1


def fair_rng(config: TableConfig, fair: FairDeal) -> fairness.FairRandom:
    """The rng a fair deal's cards come from: the stream of its seed and every seat's contribution."""
    seed, _ = fairness.deal_secret(config.seed, fair.deal)
    values = [bytes.fromhex(c.value) for c in fairness.contributions_of(seed, fair.seats, fair.values)]
    return fairness.FairRandom(fairness.deal_key(seed, values))


def commitment_of(config: TableConfig, deal: int) -> str:
    return fairness.commitment(*fairness.deal_secret(config.seed, deal))


def reveal_of(config: TableConfig, fair: FairDeal) -> FairReveal:
    """Everything a verifier needs about a dealt fair deal (only ever published once it is over)."""
    seed, nonce = fairness.deal_secret(config.seed, fair.deal)
    return FairReveal(scheme=fairness.SCHEME, table=config.id, deal=fair.deal, game=config.game.name,
                      commitment=fair.commitment, seed=seed.hex(), nonce=nonce.hex(),
                      contributions=fairness.contributions_of(seed, fair.seats, fair.values),
                      context=fair.context)


def deal_over(config: TableConfig, state: TableState) -> bool:
    """The dealt cards are all played: the game (the hand) is over, or a match waits for its next deal."""
    game = state.game
    if game is None:
        return False
    if config.game.outcome(game) is not None:
        return True
    return config.redeals is not None and config.redeals.awaiting_deal(game)


def _dealing(config: TableConfig, state: TableState, fair: int | None) -> tuple[random.Random | None,
                                                                                  dict[str, Any]]:
    """The rng of the deal an entry names (None: an older log's), and the state's changes for it."""
    if fair is None:
        return None, {}
    pending = pending_deal(state)
    if pending is None or pending.deal != fair:
        raise Corrupt(f"dealt from fair deal {fair}, which is not the one announced")
    return fair_rng(config, pending), {"fair": msgspec.structs.replace(pending, dealt=True)}


def _fair_context(config: TableConfig, entry: e.Entry) -> dict[str, Any]:
    """What a verifier needs besides the deck: the seats, and for a hand the button and who is dealt in."""
    context: dict[str, Any] = {"seats": config.seats}
    if isinstance(entry, e.HandDealt):
        context.update(button=entry.button, dealt=[stack > 0 for stack in entry.stacks])
    return context


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
            away, sitting_out = occupant.away and occupant.leaving, occupant.sitting_out and config.cash
            if (occupant.timeouts, occupant.away, occupant.sitting_out) != (0, away, sitting_out):
                occupant = replace(occupant, timeouts=0, away=away, sitting_out=sitting_out)
        if occupant is not seats[entry.seat]:  # the seats stay the same tuple when no seat changed
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
        if (entry.paid is not None) != (state.tourney is not None):
            raise Corrupt(f"seat {entry.seat}: a sit-and-go's entry at a cash table, or the other way round")
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
        rng, changes = _dealing(config, state, entry.fair)
        options = config.options
        if rng is not None and config.redeals is not None:
            options = dict(options, deal_by_host=True)  # each later deal waits for its own fair deal
        game = config.game.setup(config.seats, rng or random.Random(config.seed), options)
        events = list(config.game.opening_events(game))
        seats = pol.refilled(config.policy, seats)
        changes.update(game=game, game_start=state.seq + 1, clocked=None)
    elif isinstance(entry, e.HandDealt):
        if in_hand(config, state):
            raise Corrupt("a hand was dealt while another was in progress")
        rng, changes = _dealing(config, state, entry.fair)
        game = hand_setup(config, entry, rng)
        events = list(config.game.opening_events(game))
        seats = pol.refilled(config.policy, seats)
        if config.game.outcome(game) is not None:  # all in on the blinds: the hand ran itself out
            seats = _settled(config, game, seats)
        changes.update(game=game, game_start=state.seq + 1, hand_no=entry.n, button=entry.button,
                       clocked=None)
    elif isinstance(entry, e.Redealt):
        redeals = config.redeals
        if redeals is None or not in_hand(config, state) or not redeals.awaiting_deal(state.game):
            raise Corrupt("a deal with no match waiting for one")
        rng, changes = _dealing(config, state, entry.fair)
        assert rng is not None
        game, events = redeals.redeal(state.game, rng)
        if pol.new_deal(events):  # a match's next deal: time banks refill
            seats = pol.refilled(config.policy, seats)
        changes.update(game=game)
    elif isinstance(entry, e.Committed):
        if pending_deal(state) is not None or entry.deal != next_deal_number(state) \
                or (in_hand(config, state) and not deal_over(config, state)):
            raise Corrupt(f"fair deal {entry.deal} announced out of turn")
        if entry.commitment != commitment_of(config, entry.deal):
            raise Corrupt(f"fair deal {entry.deal}'s commitment is not this table's")
        changes["fair"] = FairDeal(deal=entry.deal, commitment=entry.commitment, seats=tuple(entry.seats))
    elif isinstance(entry, e.Contributed):
        pending = pending_deal(state)
        if pending is None or pending.deal != entry.deal or entry.seat not in pending.seats \
                or entry.seat in pending.values:
            raise Corrupt(f"a contribution of seat {entry.seat} to deal {entry.deal} that cannot be taken")
        changes["fair"] = msgspec.structs.replace(pending, values={**pending.values, entry.seat: entry.value})
    elif isinstance(entry, e.Revealed):
        fair = state.fair
        if fair is None or not fair.dealt or fair.revealed or fair.deal != entry.reveal.deal:
            raise Corrupt(f"deal {entry.reveal.deal} revealed before it was dealt, or twice")
        if entry.reveal != reveal_of(config, fair):
            raise Corrupt(f"deal {entry.reveal.deal}'s reveal is not what this table dealt")
        changes.update(fair=msgspec.structs.replace(fair, revealed=True), reveal=entry.reveal)
    elif isinstance(entry, (e.SatOut, e.SatIn)):
        seats = _with_seat(seats, entry.seat, replace(_seat(state, entry.seat),
                                                      sitting_out=isinstance(entry, e.SatOut)))
    elif isinstance(entry, e.Banked):
        seats = _with_seat(seats, entry.seat, pol.drawn(_seat(state, entry.seat), entry))
    elif isinstance(entry, e.ToppedUp):
        occupant = _seat(state, entry.seat)
        if occupant.user != entry.user or entry.amount <= 0 or not config.cash or state.tourney is not None:
            raise Corrupt(f"a top-up of seat {entry.seat} that does not fit it")
        if in_hand(config, state) and config.cash_game.dealt_in(state.game)[entry.seat]:
            raise Corrupt(f"a top-up of seat {entry.seat} in the middle of its hand")
        seats = _with_seat(seats, entry.seat, replace(occupant, stack=occupant.stack + entry.amount))
    elif isinstance(entry, (e.SitAndGoStarted, e.Busted, e.SitAndGoEnded)):
        if state.tourney is None:  # else the tournament's own (below)
            raise Corrupt(f"a sit-and-go entry at table {config.id}, which is not one")
    elif isinstance(entry, e.Closed):
        changes["closed"] = True
    else:
        raise Corrupt(f"unknown entry {entry!r}")
    if state.tourney is not None and isinstance(entry, _TOURNEY_ENTRIES):
        assert config.sit_and_go is not None  # a tournament state only at a sit-and-go (new_state)
        try:
            changes["tourney"] = sgs.apply(config.sit_and_go, state.tourney, state.seats, entry)
        except sgs.Corrupt as exc:
            raise Corrupt(str(exc)) from None
    if isinstance(entry, (e.Started, e.HandDealt, e.Redealt)) and "fair" in changes:
        changes["fair"] = msgspec.structs.replace(changes["fair"], context=_fair_context(config, entry))
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


_TOURNEY_ENTRIES = (e.Seated, e.Unseated, e.SitAndGoStarted, e.HandDealt, e.Busted, e.SitAndGoEnded)


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
    as dealt stay in the seats until it settles), so this is the seats' stacks, in a hand or not. A
    sit-and-go's stacks are tournament chips: it holds the entries paid (`SitAndGoState.pool`)."""
    if state.tourney is not None:
        return state.tourney.pool
    return sum(s.stack for s in state.seats if s is not None)
