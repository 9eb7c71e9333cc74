"""Short summaries of finished games for a table's hand-history panel, read from one viewer's replay.

`summarize(replay, number=…, finished=…)` takes a replay as `common.history.for_viewer` cut it for one
seat or for a spectator, and refuses anything else (the stored form, which holds every seat's view, or
the full replay): a summary is made only of what that viewer was shown, so it cannot hold more. It says,
for a Hold'em hand, street by street who did what, the board, the cards that were shown and who won
what; for a Hearts match, each deal's passing, its tricks and scores; for a Crazy Eights game, every
play and draw and the scores. Events are copied field by field from a list of the fields each kind may
carry (an event kind it does not know of is left out, not passed through).

Pure: no I/O. The README (History) documents the form.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: the fields of each event kind a summary keeps, as the viewer's replay has them (`cards` of another
#: seat's hole cards or passed cards are simply absent there)
_FIELDS: dict[str, tuple[str, ...]] = {
    # Hold'em
    "blind_posted": ("blind", "amount", "all_in"),
    "action": ("action", "amount", "to", "all_in"),
    "uncalled_returned": ("amount",),
    "pot_awarded": ("amount", "hand"),
    # Hearts
    "cards_passed": ("cards", "to_seat"),
    "cards_received": ("cards", "from_seat"),
    "hearts_broken": (),
    "deal_scored": ("deal", "points", "scores", "moon"),
    # Crazy Eights (and Hearts' plays)
    "started": ("starter", "first"),
    "played": ("card", "suit"),
    "drew": ("card", "penalty"),
    "passed": (),
    "hand_over": ("scores", "went_out", "reason"),
}
_DEALT = ("hole_cards", "hand_dealt", "dealt")  # a seat's own cards as dealt, per game
_STREETS = {"preflop": "Preflop", "flop": "Flop", "turn": "Turn", "river": "River"}


def summarize(replay: Mapping[str, Any], *, number: int, finished: float) -> dict[str, Any]:
    """The panel's summary of one finished game (`number`: its place among the table's finished games,
    from 1; `finished`: when it ended, Unix seconds) from a seat's or a spectator's replay.

    Raises ValueError for a replay that is not one viewer's (the stored form or the full replay)."""
    viewer = replay.get("viewer")
    if not isinstance(viewer, Mapping) or viewer.get("full") or any("view" not in s for s in replay["steps"]):
        raise ValueError("a summary is made from one seat's or a spectator's replay only")
    seat = viewer.get("seat")
    game = replay["game"]
    steps = list(replay["steps"])
    players = [{"seat": p["seat"], "name": p["name"], "bot": bool(p["bot"])} for p in replay["players"]]
    robots = {p["seat"] for p in players if p["bot"]}
    make = {"holdem": _holdem, "hearts": _hearts}.get(game, _crazy_eights)
    rounds, extra = make(steps, robots)
    out: dict[str, Any] = {
        "game_id": replay["game_id"], "game": game, "table": replay["table"], "number": number,
        "finished": finished, "viewer": {"seat": seat}, "players": players,
        "mine": _mine(steps, seat), "rounds": rounds, "steps": len(steps),
        "results": _results(replay, extra.pop("won", {}), extra.pop("in_hand", None)),
        "lower_is_better": bool(replay["result"].get("lower_is_better", False)),
    }
    out.update(extra)
    return out


def _event(ev: Mapping[str, Any], by: str | None = None) -> dict[str, Any] | None:
    fields = _FIELDS.get(str(ev.get("kind")))
    if fields is None:
        return None
    out: dict[str, Any] = {"kind": ev["kind"], "seat": ev.get("seat")}
    out.update((k, ev[k]) for k in fields if ev.get(k) is not None)
    if by is not None:
        out["by"] = by
    return out


def _by(step: Mapping[str, Any], robots: set[int]) -> str | None:
    """Who decided a move made for a person: "bot" (standing in while they were away) or "clock"."""
    by = step.get("by")
    if step.get("kind") != "move" or by in (None, "player") or step.get("seat") in robots:
        return None
    return str(by)


def _mine(steps: list[Mapping[str, Any]], seat: int | None) -> list[str] | None:
    """The viewer's own cards as first dealt (None for a spectator)."""
    if seat is None:
        return None
    for step in steps:
        for ev in step["events"]:
            if ev.get("seat") == seat and ev.get("kind") in _DEALT and ev.get("cards"):
                return list(ev["cards"])
        view = step.get("view") or {}
        cards = view.get("hole") or view.get("hand")
        if cards:
            return list(cards)
    return None


def _holdem(steps: list[Mapping[str, Any]], robots: set[int]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    rounds: list[dict[str, Any]] = [{"name": _STREETS["preflop"], "cards": [], "actions": []}]
    shown: dict[int, dict[str, Any]] = {}
    won: dict[int, int] = {}
    for step in steps:
        by = _by(step, robots)
        for ev in step["events"]:
            kind = ev.get("kind")
            if kind == "street":
                rounds.append({"name": _STREETS.get(ev["street"], str(ev["street"]).title()),
                               "cards": list(ev["cards"]), "actions": []})
            elif kind == "showdown":
                for hand in ev["hands"]:
                    shown[hand["seat"]] = {"seat": hand["seat"], "cards": list(hand["cards"]),
                                           "hand": hand.get("hand")}
            elif kind != "hand_over" and (one := _event(ev, by)) is not None:  # its stacks: in results
                if kind == "pot_awarded":
                    won[ev["seat"]] = won.get(ev["seat"], 0) + int(ev["amount"])
                rounds[-1]["actions"].append(one)
    last = steps[-1].get("view") or {} if steps else {}
    for key, cards in (last.get("shown") or {}).items():  # shown without a showdown (or mucked late)
        shown.setdefault(int(key), {"seat": int(key), "cards": list(cards), "hand": None})
    first = steps[0].get("view") or {} if steps else {}
    in_hand = first.get("dealt_in")
    return rounds, {"board": list(last.get("board") or []), "shown": [shown[s] for s in sorted(shown)],
                    "won": won, "in_hand": in_hand}


def _hearts(steps: list[Mapping[str, Any]], robots: set[int]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    rounds: list[dict[str, Any]] = []
    trick: list[dict[str, Any]] = []
    for step in steps:
        by = _by(step, robots)
        for ev in step["events"]:
            kind = ev.get("kind")
            if kind == "deal_started" or not rounds:
                deal = int(ev.get("deal", len(rounds))) if kind == "deal_started" else len(rounds)
                direction = ev.get("pass_direction") if kind == "deal_started" else None
                rounds.append({"name": f"Deal {deal + 1}" + (f" · pass {direction}" if direction else ""),
                               "cards": [], "actions": []})
                if kind == "deal_started":
                    continue
            if kind == "played":
                trick.append({"seat": ev["seat"], "card": ev["card"], **({"by": by} if by else {})})
            elif kind == "trick_won":
                rounds[-1]["actions"].append({"kind": "trick", "seat": ev["seat"], "plays": trick,
                                              "points": ev.get("points", 0)})
                trick = []
            elif (one := _event(ev, by)) is not None:
                rounds[-1]["actions"].append(one)
    return rounds, {"board": [], "shown": []}


def _crazy_eights(steps: list[Mapping[str, Any]],
                  robots: set[int]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    actions = [one for step in steps for ev in step["events"]
               if (one := _event(ev, _by(step, robots))) is not None]
    return [{"name": "Play", "cards": [], "actions": actions}], {"board": [], "shown": []}


def _results(replay: Mapping[str, Any], won: dict[int, int], in_hand: Any) -> list[dict[str, Any]]:
    """Each seat's score (a Hold'em hand: chips won or lost; else points), what it won, and the winners
    (seats not dealt into a Hold'em hand are left out)."""
    result = replay["result"]
    scores, winners = list(result["scores"]), set(result["winners"])
    out = []
    for p in replay["players"]:
        seat = p["seat"]
        if isinstance(in_hand, list) and seat < len(in_hand) and not in_hand[seat]:
            continue
        row: dict[str, Any] = {"seat": seat, "name": p["name"], "score": scores[seat],
                               "winner": seat in winners}
        if seat in won:
            row["won"] = won[seat]
        out.append(row)
    return out
