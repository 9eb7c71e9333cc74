"""CurveZMQ keys of the links between realtime and game servers: the key files, the allow-list, the checks.

Every realtime and game-server process has a long-term keypair of its own, kept as ZeroMQ certificate
files (the czmq format pyzmq reads) under the key directory (`keys_dir`, default `<data_dir>/keys`):

    keys/gameserver/g1/20261201T105300Z-3fa2.key          the public key (copy it to realtime hosts)
    keys/gameserver/g1/20261201T105300Z-3fa2.key_secret   the secret key (mode 0600, never copied)
    keys/realtime/rt8101/...                              the same for realtime process rt8101
    keys/revoked/...                                      public keys taken off the allow-list

A process uses the newest secret key in its own directory and makes one on first start if there is none.
A game server admits any realtime public key under `keys/realtime/` (the allow-list, re-read every
heartbeat: add a key and it is accepted, remove one and its sessions are refused at once); a realtime
process connects to a game server only with that server's newest public key (pinning). Admins who
provision hosts themselves use `python -m common.curve` (`scripts/ctl keys`): list, create, rotate, revoke.

This is the one module of `common` that imports ZeroMQ: both ZeroMQ tiers share it, nothing else uses it.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import os
import secrets
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import zmq
import zmq.auth

KINDS = ("realtime", "gameserver")
#: The oldest libzmq whose CURVE is safe to use: 4.3.2 fixed CVE-2019-13132.
MIN_LIBZMQ = (4, 3, 2)
#: The ZAP domain of Felt's links (a game server's authenticator answers for it).
ZAP_DOMAIN = "felt"


class KeyProblem(Exception):
    """A key that is missing, unreadable or unsafe; the text says which file and what to do."""


@dataclass(frozen=True)
class Key:
    kind: str  # "realtime" | "gameserver"
    name: str  # the process: rt8101, g1
    id: str  # when it was made, so the newest sorts last
    public: bytes  # z85 text, 40 bytes
    secret: bytes | None  # z85 text; None where only the public file is present
    path: Path  # the public key file

    @property
    def fingerprint(self) -> str:
        return self.public[:8].decode()


def require_curve() -> None:
    """Refuse to start without a libzmq that has CURVE and is recent enough to use it safely."""
    if not zmq.has("curve"):
        raise RuntimeError(f"libzmq {zmq.zmq_version()} was built without CURVE; Felt's links need it "
                           "(install a libzmq with libsodium, or pyzmq's bundled one)")
    if zmq.zmq_version_info() < MIN_LIBZMQ:
        raise RuntimeError(f"libzmq {zmq.zmq_version()} is older than 4.3.2, whose CURVE has a known flaw "
                           "(CVE-2019-13132); upgrade it")


def _check_name(kind: str, name: str) -> None:
    if kind not in KINDS:
        raise KeyProblem(f"unknown kind of process {kind!r}: one of {', '.join(KINDS)}")
    if not name or not all(c.isalnum() or c in "-_" for c in name):
        raise KeyProblem(f"bad process name {name!r}: letters, digits, '-' and '_' only")


def _private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.chmod(0o700)
    return path


def create(keys_dir: Path, kind: str, name: str) -> Key:
    """A new keypair for process `name`; it becomes that process's key at its next start."""
    _check_name(kind, name)
    where = _private_dir(_private_dir(_private_dir(keys_dir) / kind) / name)
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    key_id = f"{stamp}-{secrets.token_hex(2)}"
    old_umask = os.umask(0o077)  # the secret file is never readable by anyone else, not even briefly
    try:
        public_file, secret_file = zmq.auth.create_certificates(where, key_id)
    finally:
        os.umask(old_umask)
    Path(secret_file).chmod(0o600)
    Path(public_file).chmod(0o644)
    return _read(kind, name, Path(public_file))


def _read(kind: str, name: str, public_file: Path) -> Key:
    public, _ = zmq.auth.load_certificate(public_file)
    secret_file = public_file.with_suffix(".key_secret")
    secret = None
    if secret_file.exists():
        if secret_file.stat().st_mode & 0o077:
            raise KeyProblem(f"{secret_file} can be read by other users; chmod 600 it (or make a new key)")
        _, secret = zmq.auth.load_certificate(secret_file)
    return Key(kind, name, public_file.stem, public, secret, public_file)


def keys_of(keys_dir: Path, kind: str, name: str | None = None) -> list[Key]:
    """Every key of that kind (of process `name` only, if given), oldest first."""
    found = []
    root = keys_dir / kind
    if name is not None:
        names = [name]
    elif root.is_dir():
        names = sorted(p.name for p in root.iterdir() if p.is_dir())
    else:
        names = []
    for each in names:
        for public_file in sorted((root / each).glob("*.key")):
            found.append(_read(kind, each, public_file))
    return found


def own_key(keys_dir: Path, kind: str, name: str) -> Key:
    """The key this process uses: the newest one with its secret, made now if there is none."""
    _check_name(kind, name)
    usable = [k for k in keys_of(keys_dir, kind, name) if k.secret is not None]
    return usable[-1] if usable else create(keys_dir, kind, name)


def server_key(keys_dir: Path, name: str) -> bytes | None:
    """The public key a realtime process pins for game server `name` (its newest), or None yet."""
    keys = keys_of(keys_dir, "gameserver", name)
    return keys[-1].public if keys else None


class AllowList:
    """The realtime public keys a game server admits, by key, with the process each belongs to.

    `reload()` re-reads the directory; lookups read a dict that is replaced whole, so the authenticator's
    thread and the server's loop never see it half-built."""

    #: A handshake with an unknown key re-reads the keys, once per key per this many seconds: a key added
    #: since the last read is accepted at once, and a peer retrying a refused key costs one read a second.
    RETRY_UNKNOWN = 1.0

    def __init__(self, keys_dir: Path, kind: str = "realtime") -> None:
        self.keys_dir, self.kind = keys_dir, kind
        self._names: dict[bytes, str] = {}
        self._unknown: dict[bytes, float] = {}  # refused key -> when it last caused a read
        self.reload()

    def reload(self) -> bool:
        """Re-read the keys; True if the list changed."""
        names = {k.public: k.name for k in keys_of(self.keys_dir, self.kind)}
        changed = names != self._names
        self._names = names
        return changed

    def name_of(self, public: bytes) -> str | None:
        """The process a z85 public key belongs to, or None if it is not (or no longer) allowed."""
        return self._names.get(public)

    def callback(self, domain: str, public: bytes) -> bool:
        """pyzmq's authenticator asks this for every CURVE handshake (on its own thread)."""
        if domain != ZAP_DOMAIN:
            return False
        if public not in self._names:
            now = time.monotonic()
            if now - self._unknown.get(public, -self.RETRY_UNKNOWN) >= self.RETRY_UNKNOWN:
                if len(self._unknown) > 1000:
                    self._unknown.clear()
                self._unknown[public] = now
                self.reload()  # perhaps added since the last read: accepted without waiting for a heartbeat
        return public in self._names

    def __len__(self) -> int:
        return len(self._names)


def revoke(keys_dir: Path, kind: str, name: str, key_id: str | None = None) -> list[Key]:
    """Take a process's public keys (or one of them) off the allow-list, into `keys/revoked/`."""
    _check_name(kind, name)
    chosen = [k for k in keys_of(keys_dir, kind, name) if key_id is None or k.id == key_id]
    if not chosen:
        raise KeyProblem(f"no {kind} key {key_id or ''} for {name} in {keys_dir}".replace("  ", " "))
    into = _private_dir(_private_dir(keys_dir / "revoked") / kind)
    for key in chosen:
        shutil.move(str(key.path), into / f"{name}.{key.path.name}")
        with contextlib.suppress(FileNotFoundError):
            key.path.with_suffix(".key_secret").unlink()
    return chosen


def _all(keys_dir: Path) -> Iterator[Key]:
    for kind in KINDS:
        yield from keys_of(keys_dir, kind)


# ---- the command -------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    from common.config import keys_dir_of, load

    parser = argparse.ArgumentParser(prog="scripts/ctl keys", description="CurveZMQ keys of Felt's links.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="every key: kind, process, id, fingerprint, whether its secret is here")
    for command, text in (("create", "a new key for a process (used from its next start)"),
                          ("rotate", "a new key for a process; its older keys stay allowed until revoked"),
                          ("revoke", "take a process's keys (or one, by id) off the allow-list")):
        one = sub.add_parser(command, help=text)
        one.add_argument("kind", choices=KINDS)
        one.add_argument("name")
        if command == "revoke":
            one.add_argument("id", nargs="?", help="one key's id (default: every key of the process)")
    args = parser.parse_args(argv)
    keys_dir = keys_dir_of(load())
    try:
        if args.command == "list":
            for key in _all(keys_dir):
                here = "secret here" if key.secret else "public only"
                print(f"{key.kind:10} {key.name:12} {key.id:32} {key.fingerprint}  {here}")
        elif args.command in ("create", "rotate"):
            key = create(keys_dir, args.kind, args.name)
            print(f"created {key.kind} key {key.id} for {key.name} ({key.fingerprint}): {key.path}")
            if args.kind == "realtime":
                print("copy the .key file (never the .key_secret) into keys/realtime/"
                      f"{key.name}/ on every game-server host; restart {key.name} to use it")
            else:
                print(f"copy the .key file into keys/gameserver/{key.name}/ on every realtime host; "
                      f"restart {key.name} to use it (realtime processes pick it up when they reconnect)")
        else:
            for key in revoke(keys_dir, args.kind, args.name, args.id):
                print(f"revoked {key.kind} key {key.id} of {key.name} ({key.fingerprint})")
    except KeyProblem as exc:
        print(f"felt: keys: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
