"""Log lines for every process: plain text by default, JSON objects with `json_logs = true`.

`configure(settings, who)` sets up the root logger once, at a process's start. A JSON line is one object:
`{"ts": ..., "level": "WARNING", "logger": "felt.gameserver", "process": "gameserver g1", "msg": ...}`,
plus `table`, `user` and `req` when the call passed them, e.g.
`log.warning("refused ...", extra=ids(table="g1-7", user=3, req=12))`. Text lines show them too, at
the end, as `[table=g1-7 user=3 req=12]`.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from common.config import Settings

#: The record attributes that carry ids (set through `extra=ids(...)`).
ID_FIELDS = ("table", "user", "req")


def ids(table: str | None = None, user: int | None = None, req: int | None = None) -> dict[str, Any]:
    """`extra=` for a log call: the ids given, for the JSON fields (None ones are left out)."""
    return {k: v for k, v in (("table", table), ("user", user), ("req", req)) if v is not None}


class JsonFormatter(logging.Formatter):
    def __init__(self, process: str) -> None:
        super().__init__()
        self.process = process

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname, "logger": record.name, "process": self.process,
            "msg": record.getMessage()}
        for name in ID_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self, process: str) -> None:
        super().__init__(f"%(asctime)s {process} %(levelname)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        found = [f"{name}={getattr(record, name)}" for name in ID_FIELDS
                 if getattr(record, name, None) is not None]
        return f"{text} [{' '.join(found)}]" if found else text


def configure(settings: Settings, process: str, level: int = logging.INFO) -> None:
    """The root logger writes to stderr, as JSON or as text (settings.json_logs)."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter(process) if settings.json_logs else TextFormatter(process))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
