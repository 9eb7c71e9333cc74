"""Fair deals in exported games: what a replay's viewer saw of each deal, and the deals a file carries.

A finished game's JSON export (`felt-replay`) lists its deals' reveals under `fair`, each with what the
export's viewer saw of that deal (`seen`, built here from the viewer's own steps exactly as the browser's
fair-deal panel builds it from live views); a Hold'em PHH export carries its hand's reveal as
`_felt_fair_reveal`; `common.fairness.deals_in` finds them in a file for `python -m common.fairness
verify`, so a downloaded game verifies offline, without Felt.

Views and events here are JSON objects (the replay's form), read by their documented fields only; this
module knows no card rule (the frontend, which serves exports, imports it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

from common.views import Seen


def seen_in_steps(game: str, seat: int, steps: Iterable[Mapping[str, Any]]) -> dict[int, Seen]:
    """Deal number -> what seat `seat` saw of it in a replay's `steps` (each with its `deal`, the fair deal
    its cards came from, and that seat's `view` and `events`)."""
    seen: dict[int, Seen] = {}
    for step in steps:
        deal, view = step.get("deal"), step.get("view")
        if not isinstance(deal, int) or not isinstance(view, Mapping):
            continue
        mine = seen.setdefault(deal, Seen(seat=seat))
        hand = view.get("hole") or view.get("hand")
        if not mine.hand and hand:
            mine.hand = list(hand)
        discards = view.get("discards")
        if game == "crazy_eights" and not mine.public and discards:
            mine.public = [discards[0]]  # the starter: the first card turned up
        board = view.get("board") or []
        if game == "holdem" and len(board) > len(mine.public):
            mine.public = list(board)
        for shown_seat, cards in (view.get("shown") or {}).items():
            mine.others[int(shown_seat)] = list(cards)  # a showdown
        events = [ev for ev in step.get("events") or [] if isinstance(ev, Mapping)]
        # Crazy Eights: a draw takes the stock's top, so the stock left after it is where the card was
        left = int(view.get("stock") or 0) + sum(ev.get("kind") == "drew" for ev in events)
        for ev in events:
            if ev.get("kind") == "drew":
                left -= 1
                if ev.get("seat") == seat and ev.get("card"):
                    mine.drawn.append((left, ev["card"]))
            elif ev.get("kind") == "cards_received" and ev.get("seat") == seat and ev.get("cards"):
                giver = int(ev["from_seat"])  # Hearts: cards passed from that seat's hand
                mine.others[giver] = [*mine.others.get(giver, []), *ev["cards"]]
    return seen


def export_deals(replay: Mapping[str, Any], steps: list[dict[str, Any]], seat: int | None) -> list[Any]:
    """The `fair` list of a viewer's export: each stored reveal, with what `seat` saw of it (a seat's
    viewer only: a spectator or the full replay verifies the commitment and the deck alone)."""
    reveals = replay.get("fair") or []
    seen = seen_in_steps(str(replay.get("game")), seat, steps) if seat is not None else {}
    out = []
    for reveal in reveals:
        one = {"reveal": reveal}
        deal = reveal.get("deal") if isinstance(reveal, Mapping) else None
        mine = seen.get(deal) if isinstance(deal, int) else None
        if mine is not None:
            one["seen"] = msgspec.to_builtins(mine)
        out.append(one)
    return out
