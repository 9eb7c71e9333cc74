"""The replay and export formats of finished games, and who may see which replay.

A finished match (Crazy Eights, Hearts) or Hold'em hand is stored once with what every viewer saw at each
step (built in the game-server tier by `gameserver.history`, which alone can fold a game; this module
never looks inside a view). `for_viewer` cuts the stored form down to one viewer's replay, and
`may_see` decides which viewer a user may ask for:

* a person who sat at the game (dealt in; also one who left it mid-way) sees their own seat's replay
  (their cards, others' only where shown), or, since the game is over, the full replay (every seat's
  view);
* anybody else sees the spectator's replay, of a public table only: never more than a spectator saw.

The stored form (`REPLAY_FORMAT`, version `REPLAY_VERSION`) and the viewer's form are JSON; the README
documents both. `pack`/`unpack` are the compressed text the database keeps: the JSON compressed with
Zstandard (level `ZSTD_LEVEL`), in base64. Rows written before that are zlib's; `unpack` reads both, told
apart by their first bytes (a Zstandard frame's magic number; zlib's header never starts so). Unknown
step fields (an entry type added later) pass through untouched.

The database keeps the stored form compacted (`"stored": COMPACT`): each step has the spectator's view
and events once, each seat only what differs from them (`own`: the view's fields that differ; `secret`:
its events whole where the spectator's copy lacks their secret fields). A game's views are alike but for
a seat's own cards, so the compact form is a quarter of the size and costs the game server that much
less to encode and compress. `unpack` gives the stored form back whole, so every reader sees one form;
older rows (no `stored`) are whole already.
"""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Mapping
from typing import Any

import zstandard

from common.fair_files import export_deals

REPLAY_FORMAT = "felt-replay"
#: Version of the replay form; bumped when a field's meaning changes (new fields may appear without it).
REPLAY_VERSION = 1
SPECTATOR = "spectator"
FULL = "full"
#: The `stored` marker of a compacted replay (see the module docstring).
COMPACT = 2


def game_id(table_id: str, deal_seq: int) -> str:
    """A finished game's identity: its table and the seq of the entry that dealt it (stable across
    recovery, so a game is rated and stored once)."""
    return f"{table_id}:{deal_seq}"


#: Zstandard's level for stored replays: against zlib's level 6, which they had before, 2.3-3.1x faster
#: to compress and 3-7 % smaller for every game (README, Performance); 3, its default, is faster still but
#: 4-19 % larger than zlib's.
ZSTD_LEVEL = 5
#: Most a stored replay may expand to (a Hearts match to 100 is under 1 MiB): a row that claims more is
#: refused, not decompressed.
MAX_REPLAY_BYTES = 64 << 20


def pack(replay: Mapping[str, Any]) -> str:
    """The stored text of a replay: compact JSON, Zstandard-compressed, base64."""
    return pack_raw(json.dumps(replay, separators=(",", ":"), ensure_ascii=False).encode())


def pack_raw(raw: bytes) -> str:
    """`pack` of a replay already encoded as JSON. A compressor is not safe to share across threads
    (the replay thread, the frontend's workers), so each call makes its own: cheap at this level."""
    return base64.b64encode(zstandard.ZstdCompressor(level=ZSTD_LEVEL).compress(raw)).decode("ascii")


def unpack(text: str) -> dict[str, Any]:
    """The stored form of a replay from the database's text (whole, however it was kept; Zstandard or,
    for rows from before it, zlib)."""
    return expand(json.loads(_decompress(base64.b64decode(text))))


def _decompress(packed: bytes) -> bytes:
    if not packed.startswith(zstandard.FRAME_HEADER):
        return zlib.decompress(packed)
    # the frame says its size (`compress` writes it), and is then decompressed whole whatever the bound
    if zstandard.frame_content_size(packed) > MAX_REPLAY_BYTES:
        raise ValueError("a stored replay larger than MAX_REPLAY_BYTES")
    return zstandard.ZstdDecompressor().decompress(packed, max_output_size=MAX_REPLAY_BYTES)


def expand(stored: dict[str, Any]) -> dict[str, Any]:
    """A compacted stored replay made whole: every viewer's `views` and `events` at each step (a whole
    one is returned as it is)."""
    if stored.pop("stored", None) != COMPACT:
        return stored
    stored["steps"] = [expand_step(step) for step in stored["steps"]]
    return stored


def expand_step(step: dict[str, Any]) -> dict[str, Any]:
    """One compacted step made whole (see the module docstring), its viewers in the whole form's order:
    the seats, the spectator, then (events) the full events. Readers share the values; none changes one."""
    whole = {k: v for k, v in step.items() if k not in ("view", "own", "whole", "secret")}
    spectator: dict[str, Any] = step["view"]
    own: dict[str, dict[str, Any]] = step.get("own", {})
    kept: dict[str, dict[str, Any]] = step.get("whole", {})  # a seat's view lacking a spectator's field
    public: list[Any] = step["events"]
    secret: dict[str, dict[str, Any]] = step.get("secret", {})
    views: dict[str, Any] = {}
    events: dict[str, list[Any]] = {}
    full = list(public)
    for seat in sorted({*own, *kept}, key=int):
        views[seat] = kept[seat] if seat in kept else {**spectator, **own[seat]}
        mine = list(public)
        for index, event in secret.get(seat, {}).items():
            mine[int(index)] = full[int(index)] = event
        events[seat] = mine
    views[SPECTATOR], events[SPECTATOR], events[FULL] = spectator, list(public), full
    whole["views"], whole["events"] = views, events
    return whole


def may_see(seat: int | None, public: bool, full: bool) -> str | None:
    """Which replay a user gets who sat in `seat` (None: did not sit at the game; the game's players are
    its `game_players` rows, people only): a seat number as text, FULL (`full` asked, by one who sat
    there) or SPECTATOR; None when they may see none (a private table they did not sit at).

    >>> may_see(2, public=False, full=False), may_see(2, public=False, full=True), may_see(None, True, True)
    ('2', 'full', 'spectator')
    """
    if seat is not None:
        return FULL if full else str(seat)
    return SPECTATOR if public else None


def held_from_spectators(delay: float | str | None, finished: float, now: float, latest: bool) -> bool:
    """Whether a finished game is still hidden from spectators by its table's spectator delay: one that
    ended less than `delay` seconds before `now`, or, with a delay of one hand, the table's `latest`
    finished game (its spectators are shown a hand once the next one is over).

    >>> held_from_spectators("hand", 0, 10, latest=True), held_from_spectators(30, 100, 120, latest=False)
    (True, True)
    """
    if delay == "hand":
        return latest
    return finished > now - float(delay or 0)


def for_viewer(stored: Mapping[str, Any], viewer: str, fair: bool = True) -> dict[str, Any]:
    """One viewer's replay from the stored form: each step with that viewer's `view` and `events`
    (FULL: `views` of every seat, the full events and each move as taken); `fair`: with each deal's
    reveal and what this viewer saw of it (an export's; a summary of the hand has no use for it)."""
    out = {k: v for k, v in stored.items() if k != "steps"}
    out["viewer"] = {"seat": int(viewer) if viewer.isdigit() else None, "full": viewer == FULL}
    steps = []
    for step in stored["steps"]:
        one = {k: v for k, v in step.items() if k not in ("views", "events", "action")}
        if viewer == FULL:
            one["views"] = {k: v for k, v in step["views"].items() if k != SPECTATOR}
            one["events"] = step["events"].get(FULL, [])
            if "action" in step:
                one["action"] = step["action"]
        else:
            one["view"] = step["views"].get(viewer)
            one["events"] = step["events"].get(viewer, [])
        steps.append(one)
    out["steps"] = steps
    out.pop("phh", None)
    if fair and "fair" in stored:  # each deal's reveal, with what this viewer saw of it: verifiable offline
        out["fair"] = export_deals(stored, steps, out["viewer"]["seat"])
    return out


def phh_for(stored: Mapping[str, Any], viewer: str) -> str | None:
    """A Hold'em hand's PHH text as `viewer` may see it (None for other games)."""
    texts = stored.get("phh")
    if not isinstance(texts, dict):
        return None
    text = texts.get(viewer)
    return text if isinstance(text, str) else None
