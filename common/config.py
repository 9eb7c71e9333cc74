"""One settings object for every tier: defaults, then a TOML file, then `FELT_*` environment variables.

`load()` builds a `Settings`; nothing here reads the environment at import. Each field may be set in the
file (`FELT_CONFIG`, default `felt.toml` if present) by its name, or in the environment as `FELT_<NAME>`
(upper case): numbers as text, lists as comma-separated text, dicts as JSON. Every value is converted to
its field's type and checked (msgspec does the conversion); a wrong one is refused with a `ValueError`
that names where it came from and the setting, e.g. `felt.toml: auth_timeout: expected a number, got
"soon"`. Values that cannot be right (a negative timeout, port 0, a zero rate) are refused the same way.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import tomllib
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from common.proxies import parse_networks

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
    #: Encrypt and mutually authenticate every realtime <-> game-server link with CurveZMQ (common/curve.py).
    #: Off, anyone who can reach a game server's port can act as any player: for benchmarks only.
    curve: bool = True
    #: The event loop the realtime and game servers run on: "uvloop" (libuv's, common/loops.py) or
    #: "asyncio" (the standard library's).
    event_loop: str = "uvloop"
    #: Where each process's CurveZMQ keys and the allow-list live. Empty: <data_dir>/keys.
    keys_dir: str = ""
    #: Serve Prometheus metrics from every process on an internal port (common/metrics.py); off: none.
    metrics: bool = True
    #: Address the metrics endpoints listen on: loopback by default; never a public one.
    metrics_host: str = "127.0.0.1"
    #: A process's metrics port is its own port plus this: the frontend 9000, realtime 9101, 9102, ...,
    #: game servers 6601, 6602, ... (`--metrics-port` of a realtime or game server process overrides).
    metrics_port_offset: int = 1000
    #: Log lines as JSON objects (time, level, logger, message, and the table, user and request ids a
    #: line carries) for a log collector; off: plain text lines.
    json_logs: bool = False
    #: Addresses or networks of the proxies in front (haproxy): only a request whose TCP peer is one of them
    #: is believed about the client's address (`X-Forwarded-For`, `X-Real-IP`; common/proxies.py). Empty:
    #: nobody is, and every client is known by the address it connects from.
    trusted_proxies: list[str] = field(default_factory=list)

    # --- frontend ---
    frontend_host: str = "127.0.0.1"
    #: Served over TLS (directly or behind a TLS proxy): HSTS, and Secure session cookies.
    tls: bool = False
    hsts_max_age: int = 31_536_000  # seconds browsers keep to HTTPS once they saw HSTS (when `tls`)
    frontend_port: int = 8000
    #: Public SockJS URLs of the realtime servers, handed out with tokens.
    realtime_urls: list[str] = field(default_factory=lambda: [
        "http://127.0.0.1:8101/sockjs", "http://127.0.0.1:8102/sockjs"])
    starting_chips: int = 10_000
    #: Login and registration throttling (frontend/throttle.py; Flask-Limiter notation, per worker).
    #: Every login POST counts per address; a failed one also per account name tried.
    login_address_limit: str = "20 per minute; 100 per hour"
    login_account_limit: str = "5 per minute; 20 per hour"
    register_address_limit: str = "3 per minute; 10 per day"

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
    #: Outgoing backlog one connection may have (bytes and frames not yet written to its socket, or not
    #: yet polled); past either, it gets `error` `too_slow` and is closed with 4008 (its seat is held).
    max_out_bytes: int = 1024 * 1024
    max_out_frames: int = 2000
    #: Deepest JSON nesting a client frame may have; deeper is refused as `bad_json` before decoding.
    max_json_depth: int = 8
    #: Per-address limits on new SockJS sessions, every transport alike (realtime/admission.py): how many
    #: of one address's sessions may be open before they authenticate, and how many new ones it may open a
    #: second (in bursts of `new_sessions_burst`). Past either, a new session gets HTTP 429 (Retry-After).
    #: IPv6 addresses count by their /64.
    max_unauthenticated_per_address: int = 50
    new_sessions_per_address: float = 20.0
    new_sessions_burst: int = 100

    # --- game servers ---
    #: ZeroMQ endpoints of the game servers by name; a table id starts with its server's name.
    gameservers: dict[str, str] = field(default_factory=lambda: {
        "g1": "tcp://127.0.0.1:5601", "g2": "tcp://127.0.0.1:5602"})
    #: This game server's name (a key of `gameservers`).
    gameserver_name: str = "g1"
    heartbeat_interval: float = 1.0
    heartbeat_liveness: int = 3  # missed heartbeats before a peer is dead
    #: Seconds a registry lease lasts (renewed every heartbeat): a process silent that long is `gone`,
    #: and other game servers take over its tables. Must be well over `heartbeat_interval`.
    lease_seconds: float = 5.0
    #: Follow the registry (`common.registry`): realtime processes open links to the game servers it
    #: lists, the frontend hands out its live realtime servers. Off: the static `gameservers` and
    #: `realtime_urls` lists only.
    registry: bool = True
    #: A draining realtime process sends its clients elsewhere over this many seconds (not all at once),
    #: and exits once none is left or after `drain_deadline` seconds.
    drain_spread: float = 2.0
    drain_deadline: float = 30.0
    #: The SockJS URL browsers use for this realtime process, as registered ("{port}" is replaced by its
    #: port). Empty: http://<realtime_host>:<port>/sockjs.
    realtime_public_url: str = ""
    #: The one SockJS URL browsers use when a proxy (haproxy) is in front of every realtime process, e.g.
    #: http://felt.example.com/sockjs: tokens hand it out and a draining realtime process moves its clients
    #: to it; each process still registers its own URL (`realtime_public_url`), where the proxy reaches it.
    #: Empty: browsers connect to each process's registered URL.
    realtime_proxy_url: str = ""
    chat_max_chars: int = 300
    chat_rate: float = 1.0  # chat lines per second per person (burst 5)
    hand_pause: float = 3.0  # seconds between Hold'em hands
    #: Seconds a deal waits at most for the seated players' contributions to its fair shuffle.
    entropy_wait: float = 2.0
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


# ---- loading and checking --------------------------------------------------------------------------

#: Settings that must be more than zero: timeouts, intervals, rates and sizes (zero would disable or stall).
POSITIVE = frozenset({"token_ttl", "auth_timeout", "max_frame_bytes", "request_timeout", "client_rate",
                      "sockjs_heartbeat", "max_out_bytes", "max_out_frames", "max_json_depth",
                      "max_unauthenticated_per_address", "new_sessions_per_address", "new_sessions_burst",
                      "heartbeat_interval", "heartbeat_liveness", "lease_seconds", "chat_max_chars",
                      "chat_rate", "max_tables", "metrics_port_offset"})
#: Settings that may be zero but never negative: delays, grace periods, chips.
NOT_NEGATIVE = frozenset({"starting_chips", "hand_pause", "bot_delay", "grace_period", "resume_window",
                          "drain_spread", "drain_deadline", "entropy_wait"})
#: The event loops `event_loop` may name (common/loops.py).
EVENT_LOOPS = ("uvloop", "asyncio")
#: TCP ports to listen on.
PORTS = frozenset({"frontend_port", "realtime_port"})

_EXPECTED = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}
_PLURAL = {int: "integers", float: "numbers", str: "strings", bool: "booleans"}


@functools.cache
def _field_types() -> dict[str, Any]:
    """Each setting's type, resolved (the annotations are strings under `from __future__`)."""
    hints = typing.get_type_hints(Settings)
    return {f.name: hints[f.name] for f in dataclasses.fields(Settings)}


def _expected(kind: Any) -> str:
    """What a value of `kind` looks like, in words: 'a number', 'a list of strings', ..."""
    args = typing.get_args(kind)
    if typing.get_origin(kind) is list:
        return f"a list of {_PLURAL[args[0]]}"
    if typing.get_origin(kind) is dict:
        return f"a mapping of names to {_PLURAL[args[1]]}"
    return _EXPECTED[kind]


def _shown(value: Any) -> str:
    """`value` as the person wrote it, near enough: JSON (strings in double quotes), floats as Python's."""
    if isinstance(value, float):
        return repr(value)  # JSON would show nan as null
    try:
        return msgspec.json.encode(value).decode()
    except (TypeError, msgspec.EncodeError):
        return repr(value)


def _checked(source: str, name: str, value: Any, *, from_text: bool = False) -> Any:
    """`value` converted to setting `name`'s type and range-checked; ValueError naming `source` if not.

    `from_text`: the value came from the environment as text (a string, or the strings split from one), so
    "8000" is read as a number; a file's or a caller's values must already have the right type.
    """
    kind = _field_types()[name]
    try:
        value = msgspec.convert(value, kind, strict=not from_text)
    except msgspec.ValidationError:
        raise ValueError(f"{source}: {name}: expected {_expected(kind)}, got {_shown(value)}") from None
    problem = None
    if name in POSITIVE and not value > 0:
        problem = "must be more than 0"
    elif name in NOT_NEGATIVE and not value >= 0:
        problem = "must not be negative"
    elif name in PORTS and not 1 <= value <= 65535:
        problem = "must be a port number from 1 to 65535"
    elif name == "trusted_proxies":
        try:
            parse_networks(value)
        except ValueError as exc:
            problem = str(exc)
    elif name == "event_loop" and value not in EVENT_LOOPS:
        problem = f"must be one of {', '.join(EVENT_LOOPS)}"
    elif name == "realtime_proxy_url" and value and not value.startswith(("http://", "https://")):
        problem = "must be an http:// or https:// URL (or empty)"
    if problem:
        raise ValueError(f"{source}: {name}: {problem}, got {_shown(value)}")
    return value


def _from_env(variable: str, name: str, raw: str) -> Any:
    """Setting `name` from the text of environment variable `variable`: lists comma-separated, dicts JSON."""
    kind = typing.get_origin(_field_types()[name])
    if kind is list:
        return _checked(variable, name, [part.strip() for part in raw.split(",") if part.strip()],
                        from_text=True)
    if kind is dict:
        try:
            value = msgspec.json.decode(raw)
        except msgspec.DecodeError:
            raise ValueError(f"{variable}: {name}: expected a JSON object, got {_shown(raw)}") from None
        if not isinstance(value, dict):
            raise ValueError(f"{variable}: {name}: expected a JSON object, got {raw}")
        return _checked(variable, name, value)
    return _checked(variable, name, raw, from_text=True)


def _from_file(file: Path) -> dict[str, Any]:
    """The settings in TOML `file`, each checked; ValueError naming the file for anything wrong."""
    try:
        with open(file, "rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{file}: not valid TOML: {exc}") from None
    unknown = set(data) - set(_field_types())
    if unknown:
        raise ValueError(f"{file}: unknown settings {', '.join(sorted(unknown))}")
    return {name: _checked(str(file), name, value) for name, value in data.items()}


def load(path: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None,
         **overrides: Any) -> Settings:
    """Settings from defaults, then the TOML file, then `FELT_*` variables, then `overrides`.

    Every value is converted and checked; ValueError names the source and the setting of a wrong one.
    An override for no setting is a TypeError, as for `Settings(...)`.
    """
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    file = Path(path or env.get("FELT_CONFIG") or ROOT / "felt.toml")
    if path or env.get("FELT_CONFIG") or file.exists():
        values.update(_from_file(file))
    for name in _field_types():
        variable = f"FELT_{name.upper()}"
        raw = env.get(variable)
        if raw is not None:
            values[name] = _from_env(variable, name, raw)
    for name, value in overrides.items():
        values[name] = _checked("load() argument", name, value) if name in _field_types() else value
    settings = Settings(**values)
    if settings.lease_seconds < 2 * settings.heartbeat_interval:
        raise ValueError(f"lease_seconds ({settings.lease_seconds:g}) must be at least twice "
                         f"heartbeat_interval ({settings.heartbeat_interval:g}): a lease is renewed every "
                         "heartbeat")
    return settings


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


def keys_dir_of(settings: Settings) -> Path:
    return Path(settings.keys_dir or Path(settings.data_dir) / "keys")


def token_keys(settings: Settings) -> dict[str, str]:
    """Key id -> secret, the issuing key first."""
    return dict(settings.token_keys) or {"k1": secret_of(settings)}
