"""A finished game's replay, stats and exports, folded from its log with the table's one reducer.

`fold_steps(config, record)` folds a finished match or Hold'em hand (`GameRecord`: the state its deal
left and every entry since) with `engine.evolve`: no second interpreter of the rules. `finished` makes
what the store writes with the game's record at once, on the game server's loop (its id, settings and
each seat's result: a Hold'em hand's winnings, Hearts moon shots, counted by `tally` from the events
the table host kept as it played, so a game's end folds nothing there; only a game recovered from a
snapshot taken after its deal is folded for them); `replay_text` (run off the loop,
`gameserver.replays`) folds the game and makes the replay: at each step what each seat and a spectator
were shown — the rules' `view(state, seat)` and each event's `visible_to(seat)`, the same gates live
play sends through — and the full events, which the finished game reveals to the players who sat at
it; for Hold'em also the hand in PHH (Poker Hand History) per viewer, hidden hole cards written `????`.

Pure: no I/O. It runs in the game-server tier, which alone holds the seed; what it returns holds
views only, for `common.history` to hand out per viewer.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from typing import Any

import msgspec

from common import history as h
from common.ratings import GameResult, SeatResult
from common.views import FairReveal
from gameserver import engine as en
from gameserver import entries as e
from gameserver.rules.base import Event
from gameserver.table_types import GameRecord, tally


@dataclass
class GameHistory:
    """A finished game's replay (its JSON, and the stored form read from it on first use: the server
    stores the JSON only) and each seat's stats."""

    game_id: str
    raw: bytes  # the replay as JSON
    stats: dict[int, dict[str, int]] = field(default_factory=dict)  # seat -> {"pot": …, "moons": …}

    @functools.cached_property
    def replay(self) -> dict[str, Any]:
        """The stored form, whole (as `common.history.unpack` gives it)."""
        return h.expand(msgspec.json.decode(self.raw))


def _viewers(config: en.TableConfig) -> list[tuple[str, int | None]]:
    return [(str(s), s) for s in range(config.seats)] + [(h.SPECTATOR, None)]


_encoder = msgspec.json.Encoder()


def _builtins(value: Any) -> Any:
    return msgspec.to_builtins(value)


Step = tuple[e.AnyEntry, en.TableState, list[Event]]


def fold_steps(config: en.TableConfig, record: GameRecord) -> list[Step]:
    """The game's log folded with `evolve`: (entry, state after it, events) for its deal and then for
    every entry after it that did something a viewer sees (a move, or any kind of entry that reported
    events; the others, whatever they are, are folded and pass through).

    From the table's state right after the deal when the table kept it, with every entry since; else
    (a table recovered from a snapshot taken later) the deal is evolved again on a table holding the
    game's players, and the moves folded on it."""
    if record.deal is None:
        raise ValueError("a finished game without the entry that dealt it")
    deal_seq, deal = record.deal
    if record.dealt is not None:
        state = record.dealt
        entries: list[e.AnyEntry] = list(record.entries)
        events = list(config.game.opening_events(state.game))
    else:
        seats: list[en.SeatState | None] = [None] * config.seats
        for p in record.players:
            seats[p["seat"]] = en.SeatState(user=p["user"], name=p["name"], bot=p["bot"])
        fair = _announced(deal, record.entries)
        fresh = en.TableState(seats=tuple(seats), seq=deal_seq - 1, fair=fair)
        state, events = en.evolve(config, fresh, deal)
        # a fair deal's later entries (Hearts' next deals) are folded too; an older game's moves suffice
        entries = list(record.entries) if fair is not None else [e.from_builtins(a) for a in record.actions]
    out: list[Step] = [(deal, state, events)]
    for entry in entries:
        state, events = en.evolve(config, state, entry)
        if isinstance(entry, e.Acted) or events:
            out.append((entry, state, events))
    return out


def _announced(deal: e.Started | e.HandDealt, entries: list[e.AnyEntry]) -> en.FairDeal | None:
    """A fair deal as it was announced before its cards, from its own reveal among the game's entries
    (None for a deal of an older log). Raises ValueError when a fair deal's reveal is not there."""
    if deal.fair is None:
        return None
    reveals = (x.reveal for x in entries if isinstance(x, e.Revealed))
    reveal = next((r for r in reveals if r.deal == deal.fair), None)
    if reveal is None:
        raise ValueError(f"fair deal {deal.fair} cannot be dealt again without its reveal")
    return en.FairDeal(deal=reveal.deal, commitment=reveal.commitment,
                       seats=tuple(c.seat for c in reveal.contributions),
                       values={c.seat: c.value for c in reveal.contributions if c.by == "player"})


def build(config: en.TableConfig, record: GameRecord, folded: list[Step] | None = None) -> GameHistory:
    """The stored replay (`common.history` form) and stats of a finished game (from `folded`, its
    `fold_steps`, when the caller has them)."""
    assert record.deal is not None
    gid = h.game_id(config.id, record.deal[0])
    viewers = _viewers(config)
    steps = []
    stats: dict[int, dict[str, int]] = {}
    for entry, state, events in folded if folded is not None else fold_steps(config, record):
        step: dict[str, Any] = {"seq": state.seq}
        if isinstance(entry, e.Acted):
            step.update(kind="move", seat=entry.seat, by=entry.by, action=_builtins(entry.action))
        elif isinstance(entry, (e.Started, e.HandDealt)):
            step["kind"] = "deal"
        else:  # a kind of entry this module does not know of, shown by its events
            step.update(kind="entry", entry=e.to_builtins(entry).get("t"))
        if state.fair is not None and state.fair.dealt:
            step["deal"] = state.fair.deal  # the fair deal whose cards are in play
        _compact_views(config, state, step)
        # what `visible_to(viewer)` gives: the event's own seat sees it whole, everyone else without its
        # secret fields (kept once, as the spectator sees them; a seat's own secret events besides)
        step["events"] = [ev.visible_to(None) for ev in events]
        secret: dict[str, dict[str, Any]] = {}
        for index, ev in enumerate(events):
            if ev.secret and ev.seat is not None:
                secret.setdefault(str(ev.seat), {})[str(index)] = ev.visible_to(ev.seat)
        if secret:
            step["secret"] = secret
        steps.append(step)
        tally(stats, events)
    outcome = record.outcome
    replay: dict[str, Any] = {
        "format": h.REPLAY_FORMAT, "version": h.REPLAY_VERSION, "stored": h.COMPACT,
        "game": config.game.name, "table": config.id,
        "game_id": gid, "options": {k: v for k, v in config.options.items() if k not in ("stacks", "button")},
        "players": [{"seat": p["seat"], "name": p["name"], "bot": p["bot"]} for p in record.players],
        "result": {"scores": list(outcome.scores), "winners": list(outcome.winners),
                   "lower_is_better": outcome.lower_is_better},
        "steps": steps,
    }
    reveals = [x.reveal for x in record.entries if isinstance(x, e.Revealed)]
    if reveals:  # public once each deal is over: every seat and spectator was sent them
        replay["fair"] = reveals
    if config.cash:
        told = [h.expand_step(_builtins(step)) for step in steps]
        replay["phh"] = {key: phh(config, record, told, key, reveals) for key in
                         [*(k for k, _ in viewers), h.FULL]}
    raw = _encoder.encode(replay)  # one pass over the views' structs, in C
    return GameHistory(gid, raw, stats)


def _compact_views(config: en.TableConfig, state: en.TableState, step: dict[str, Any]) -> None:
    """The step's views, compacted (`common.history`): the spectator's, and each seat's own fields
    (`Game.seat_fields`: a seat's view is the spectator's with them) that differ from the spectator's.
    Kept as the rules made them (structs): the replay's one encoding turns them into JSON, in C."""
    game = config.game
    spectator = game.view(state.game, None)
    own: dict[str, dict[str, Any]] = {}
    for seat in range(config.seats):
        fields = game.seat_fields(state.game, seat)
        own[str(seat)] = {k: v for k, v in fields.items() if getattr(spectator, k) != v}
    step["view"], step["own"] = spectator, own


# ---- PHH -----------------------------------------------------------------------------------------


def _card(card: str) -> str:
    """Felt's "TH" as PHH's "Th"."""
    return card[:-1] + card[-1].lower()


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    raise TypeError(f"no TOML for {value!r}")


def phh(config: en.TableConfig, record: GameRecord, steps: list[dict[str, Any]], viewer: str,
        reveals: list[FairReveal] | None = None) -> str:
    """The hand as PHH (https://phh.readthedocs.io, variant NT) from the events `viewer` was shown:
    players in PHH order (from the seat after the button round to the button), hole cards nobody showed
    this viewer written `????`; its fair deal's reveal as `_felt_fair_reveal` (JSON text)."""
    events = [ev for step in steps for ev in step["events"][viewer]]
    started = next(ev for ev in events if ev["kind"] == "hand_started")
    stacks = started["stacks"]
    n = len(stacks)
    order = [s % n for s in range(started["button"] + 1, started["button"] + 1 + n) if stacks[s % n] > 0]
    player = {seat: f"p{i + 1}" for i, seat in enumerate(order)}
    names = {p["seat"]: p["name"] for p in record.players}
    actions = []
    for ev in events:
        kind = ev["kind"]
        if kind == "hole_cards":
            cards = ev.get("cards")
            actions.append(f"d dh {player[ev['seat']]} " + ("".join(map(_card, cards)) if cards else "????"))
        elif kind == "action":
            move = {"fold": "f", "check": "cc", "call": "cc"}.get(ev["action"], f"cbr {ev['to']}")
            actions.append(f"{player[ev['seat']]} {move}")
        elif kind == "street":
            actions.append("d db " + "".join(map(_card, ev["cards"])))
        elif kind == "showdown":
            actions.extend(f"{player[shown['seat']]} sm " + "".join(map(_card, shown["cards"]))
                           for shown in ev["hands"])
    over = next((ev for ev in reversed(events) if ev["kind"] == "hand_over"), None)
    small, big = int(config.options["small_blind"]), int(config.options["big_blind"])
    assert record.deal is not None
    if isinstance(record.deal[1], e.HandDealt) and record.deal[1].blinds:  # a sit-and-go's level
        small, big = record.deal[1].blinds
    fields: list[tuple[str, Any]] = [
        ("variant", "NT"), ("ante_trimming_status", True), ("antes", [0] * len(order)),
        ("blinds_or_straddles", [small, big] + [0] * (len(order) - 2)), ("min_bet", big),
        ("starting_stacks", [stacks[s] for s in order]), ("actions", actions),
        ("players", [names.get(s, f"seat {s + 1}") for s in order]), ("seats", [s + 1 for s in order]),
        ("seat_count", config.seats), ("table", config.id),
    ]
    assert record.deal is not None
    deal_seq, deal = record.deal
    if isinstance(deal, e.HandDealt):
        fields.append(("hand", deal.n))
    if over is not None:
        fields.append(("finishing_stacks", [over["stacks"][s] for s in order]))
    fields += [("_felt_game_id", h.game_id(config.id, deal_seq)), ("_felt_viewer", viewer)]
    if reveals:
        fields.append(("_felt_fair_reveal", msgspec.json.encode(reveals[0]).decode()))
    return "".join(f"{key} = {_toml(value)}\n" for key, value in fields)


# ---- what the store writes -----------------------------------------------------------------------


@dataclass
class Finished:
    """A finished game's extra columns (`finished_games`) and its result for ratings and profiles."""

    columns: dict[str, Any]
    result: GameResult | None


def finished(config: en.TableConfig, record: GameRecord, now: float) -> Finished:
    """What the store writes with the record, at once: the game id, the table's visibility and rating
    settings and each seat's result. Cheap: the seats' figures come from the events the table host
    tallied (`GameRecord.tallied`), and the game is folded only when it has not them (recovered from a
    snapshot taken after its deal); the replay comes from `replay_text`, which the server runs off its
    loop."""
    if record.deal is None:  # a game recovered from a log that lost its deal: no replay, not rated
        return Finished({"finished": now}, None)
    stats: dict[int, dict[str, int]] = {}
    if record.tallied is not None and record.dealt is not None:
        tally(stats, record.tallied)
    else:
        for _, _, events in fold_steps(config, record):
            tally(stats, events)
    gid = h.game_id(config.id, record.deal[0])
    columns = {"finished": now, "game_id": gid, "public": config.public, "rated": config.rated}
    scores = record.outcome.scores
    sat = _people_dealt_in(config, record)
    seats = [SeatResult(seat=p["seat"], user=sat.get(p["seat"], 0), score=scores[p["seat"]],
                        pot=stats.get(p["seat"], {}).get("pot", 0),
                        moons=stats.get(p["seat"], {}).get("moons", 0)) for p in record.players]
    result = GameResult(game_id=gid, game=config.game.name, rated=config.rated,
                        lower_is_better=record.outcome.lower_is_better, seats=seats, finished=now)
    return Finished(columns, result)


def _people_dealt_in(config: en.TableConfig, record: GameRecord) -> dict[int, int]:
    """Seat -> the person who sat there when the game was dealt (dealt in, at a cash table). A person a
    bot replaced for good (`stood_up`) still counts with their seat's result: leaving does not save a
    rating; one who sat down after the deal does not."""
    if record.dealt is None:  # recovered from a later snapshot: the seats as the game ended
        return {p["seat"]: p["user"] for p in record.players if not p["bot"]}
    dealt_in = config.cash_game.dealt_in(record.dealt.game) if config.cash else (True,) * config.seats
    return {seat: s.user for seat, s in enumerate(record.dealt.seats)
            if s is not None and not s.bot and s.user and dealt_in[seat]}


def tournament_result(record: dict[str, Any]) -> GameResult:
    """A finished sit-and-go's result for the players' history rows (`gameserver.sitandgo`'s record:
    each entrant's place is its score, lower is better; never rated)."""
    seats = [SeatResult(seat=p["seat"], user=p["user"], score=score)
             for p, score in zip(record["players"], record["scores"], strict=True)]
    return GameResult(game_id=record["game_id"], game=record["game"], rated=False, lower_is_better=True,
                      seats=seats, finished=record["finished"])


def replay_text(config: en.TableConfig, record: GameRecord) -> str:
    """The stored text (`common.history.pack`) of the game's replay, folded from its record. Pure and
    thread-safe: it reads only immutable states."""
    return h.pack_raw(build(config, record).raw)
