"""One settings object for every tier: defaults, then a TOML file, then `FELT_*` environment variables.

`load()` builds a `Settings`; nothing here reads the environment at import. Each field may be set in the
file (`FELT_CONFIG`, default `felt.toml` if present) by its name, or in the environment as `FELT_<NAME>`
(upper case): ints/floats/bools as text, lists as comma-separated text, dicts as JSON.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    # --- shared ---
    #: Where state lives (SQLite database, generated secret, logs).
    data_dir: str = str(ROOT / "var")
    #: SQLAlchemy URL; empty means SQLite at <data_dir>/felt.db.
    database_url: str = ""
    #: Token keys by key id; the first is used to issue, all are accepted (rotation). Empty: one key
    #: "k1" from `secret`.
    token_keys: dict[str, str] = field(default_factory=dict)
    #: Master secret (tokens and Flask sessions). Empty: generated once into <data_dir>/secret.
    secret: str = ""
    token_ttl: float = 600.0  # seconds a realtime token is valid

    # --- frontend ---
    frontend_host: str = "127.0.0.1"
    frontend_port: int = 8000
    #: Public SockJS URLs of the realtime servers, handed out with tokens.
    realtime_urls: list[str] = field(default_factory=lambda: [
        "http://127.0.0.1:8101/sockjs", "http://127.0.0.1:8102/sockjs"])
    starting_chips: int = 10_000

    # --- realtime ---
    realtime_host: str = "127.0.0.1"
    realtime_port: int = 8101
    #: Origins allowed to open SockJS connections (checked on websocket and HTTP transports).
    allowed_origins: list[str] = field(default_factory=lambda: [
        "http://127.0.0.1:8000", "http://localhost:8000"])
    #: sockjs-client version the frontend serves; the iframe transports load it from there.
    sockjs_client_version: str = "1.6.1"
    #: Absolute URL of that sockjs-client build (empty: <first allowed origin>/static/vendor/sockjs.min.js).
    sockjs_url: str = ""
    auth_timeout: float = 5.0  # seconds to send a valid auth message
    max_frame_bytes: int = 8 * 1024
    request_timeout: float = 5.0  # a game server must answer within this
    #: Messages per second a connection may send (burst of twice that).
    client_rate: float = 20.0
    sockjs_heartbeat: float = 25.0

    # --- game servers ---
    #: ZeroMQ endpoints of the game servers by name; a table id starts with its server's name.
    gameservers: dict[str, str] = field(default_factory=lambda: {
        "g1": "tcp://127.0.0.1:5601", "g2": "tcp://127.0.0.1:5602"})
    #: This game server's name (a key of `gameservers`).
    gameserver_name: str = "g1"
    heartbeat_interval: float = 1.0
    heartbeat_liveness: int = 3  # missed heartbeats before a peer is dead
    chat_max_chars: int = 300
    chat_rate: float = 1.0  # chat lines per second per person (burst 5)
    hand_pause: float = 3.0  # seconds between Hold'em hands
    bot_delay: float = 0.6  # seconds a bot (or the server acting for an absent player) waits before moving
    grace_period: float = 120.0  # seconds a disconnected player's seat is held before they are stood up
    resume_window: float = 10.0  # after a game-server restart, seconds before bots stand in for people
    #: Largest number of tables one game server hosts before it refuses new ones.
    max_tables: int = 5000

    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{Path(self.data_dir) / 'felt.db'}"

    def sockjs_client_url(self) -> str:
        return self.sockjs_url or f"{self.allowed_origins[0]}/static/vendor/sockjs.min.js"

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


def _coerce(name: str, kind: Any, raw: str) -> Any:
    text = str(kind)
    try:
        if text == "int":
            return int(raw)
        if text == "float":
            return float(raw)
        if text == "bool":
            if raw.lower() in ("1", "true", "yes", "on"):
                return True
            if raw.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if text.startswith("list"):
            return [part.strip() for part in raw.split(",") if part.strip()]
        if text.startswith("dict"):
            value = json.loads(raw)
            if not isinstance(value, dict):
                raise ValueError("not a JSON object")
            return value
    except ValueError as exc:
        raise ValueError(f"FELT_{name.upper()}: cannot read {raw!r} as {text} ({exc})") from None
    return raw


def load(path: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None,
         **overrides: Any) -> Settings:
    """Settings from defaults, then the TOML file, then `FELT_*` variables, then `overrides`."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    fields = {f.name: f for f in dataclasses.fields(Settings)}
    file = Path(path or env.get("FELT_CONFIG") or ROOT / "felt.toml")
    if path or env.get("FELT_CONFIG") or file.exists():
        with open(file, "rb") as fh:
            data = tomllib.load(fh)
        unknown = set(data) - set(fields)
        if unknown:
            raise ValueError(f"{file}: unknown settings {', '.join(sorted(unknown))}")
        values.update(data)
    for name, f in fields.items():
        raw = env.get(f"FELT_{name.upper()}")
        if raw is not None:
            values[name] = _coerce(name, f.type, raw)
    values.update(overrides)
    return Settings(**values)


def secret_of(settings: Settings) -> str:
    """The master secret: configured, or generated once into <data_dir>/secret (mode 0600)."""
    if settings.secret:
        return settings.secret
    path = Path(settings.data_dir) / "secret"
    if not path.exists():
        import secrets

        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
        try:
            os.link(tmp, path)  # atomic; a concurrent starter may have won, then we read theirs
        except FileExistsError:
            pass
        os.unlink(tmp)
    return path.read_text().strip()


def token_keys(settings: Settings) -> dict[str, str]:
    """Key id -> secret, the issuing key first."""
    return dict(settings.token_keys) or {"k1": secret_of(settings)}
