"""Game rules, one pure module per game, each exposing `GAME` (see base.Game). `games()` lists them."""

from __future__ import annotations

import importlib
from typing import Any

from gameserver.rules.base import Game

GAME_MODULES = ("crazy_eights", "hearts", "holdem")


def games() -> dict[str, Game[Any]]:
    """Every game whose module is present, by name."""
    found: dict[str, Game[Any]] = {}
    for name in GAME_MODULES:
        try:
            module = importlib.import_module(f"gameserver.rules.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"gameserver.rules.{name}":
                raise
            continue
        found[module.GAME.name] = module.GAME
    return found
