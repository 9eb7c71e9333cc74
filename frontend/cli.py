"""Command-line setup for the frontend's database; no web server involved.

    python -m frontend.cli init-db      # the same as scripts/ctl migrate
    python -m frontend.cli create-users --prefix bot --count 500 --password botsecret
    python -m frontend.cli set-admin NAME [--revoke]   # may open the admin console at /admin (or not)

`create-users` is a test and load-test setup step: it creates `<prefix><n>` for n in start..start+count-1,
skipping names that exist (so it is safe to re-run; existing accounts are left as they are). For speed it
hashes the password ONCE and gives every created account that same scrypt hash (one salt), which is
fine for throw-away bot accounts and wrong for real people: real accounts register through the site.
`set-admin` changes one existing account (scripts/ctl admin NAME does the same). Every command reads
settings like every tier (`--config`, else FELT_CONFIG / felt.toml, then FELT_*).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from sqlalchemy import func, insert, select

from common.config import Settings, load
from common.db import shown
from common.models import User, session_factory
from common.schema import SchemaMismatch, migrate, open_db
from frontend.auth import MAX_PASSWORD, MIN_PASSWORD, USERNAME_RE, find_user, hash_password

CHUNK = 500  # names per IN (...) query


class CliError(Exception):
    """A mistake in the command line, reported without a traceback."""


def init_database(settings: Settings) -> str:
    """Create the schema, or bring it to the latest version (`common.schema.migrate`); returns the URL."""
    migrate(settings.db_url())
    return settings.db_url()


def create_users(settings: Settings, prefix: str, count: int, password: str, *, start: int = 1,
                 chips: int | None = None) -> tuple[int, int]:
    """Create the missing users `<prefix><start>` … ; returns (created, already there)."""
    if count < 1 or start < 0:
        raise CliError("--count must be at least 1 and --start not negative")
    names = [f"{prefix}{n}" for n in range(start, start + count)]
    for name in (names[0], names[-1]):
        if not USERNAME_RE.fullmatch(name):
            raise CliError(f"{name!r} is not a valid username (3-20 letters, digits or _); "
                           "use a shorter --prefix or a smaller --count")
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise CliError(f"passwords are {MIN_PASSWORD} to {MAX_PASSWORD} characters long")
    chips = settings.starting_chips if chips is None else chips

    engine = open_db(settings.db_url())
    try:
        with session_factory(engine)() as s:
            existing: set[str] = set()
            for i in range(0, len(names), CHUNK):
                lowered = [n.lower() for n in names[i:i + CHUNK]]
                found = s.scalars(select(User.username).where(func.lower(User.username).in_(lowered)))
                existing.update(n.lower() for n in found)
            missing = [n for n in names if n.lower() not in existing]
            if missing:
                shared_hash = hash_password(password)  # once: see the module docstring
                now = time.time()
                s.execute(insert(User), [
                    {"username": n, "display_name": n, "password_hash": shared_hash, "chips": chips,
                     "created": now}
                    for n in missing])
                s.commit()
    finally:
        engine.dispose()
    return len(missing), len(names) - len(missing)


def set_admin(settings: Settings, name: str, admin: bool = True) -> str:
    """Make the account `name` an admin (or, `admin=False`, no longer one); returns its exact username."""
    engine = open_db(settings.db_url())
    try:
        with session_factory(engine)() as s:
            user = find_user(s, name)
            if user is None:
                raise CliError(f"there is no account {name!r}; register it on the site first")
            user.admin = admin
            s.commit()
            return user.username
    finally:
        engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m frontend.cli", description=__doc__.split("\n")[0])
    parser.add_argument("--config", help="settings file (TOML); default FELT_CONFIG or felt.toml")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("init-db", help="create or upgrade the database schema (scripts/ctl migrate)")
    users = commands.add_parser("create-users", help="bulk-create test/bot accounts (idempotent)")
    users.add_argument("--prefix", required=True, help="name prefix, e.g. bot -> bot1, bot2, …")
    users.add_argument("--count", required=True, type=int)
    users.add_argument("--password", required=True, help="one password for all of them")
    users.add_argument("--start", type=int, default=1, help="first number (default 1)")
    users.add_argument("--chips", type=int, help="chips for each new account (default starting_chips)")
    admin = commands.add_parser("set-admin", help="let an account open the admin console (/admin)")
    admin.add_argument("name", help="the account's username")
    admin.add_argument("--revoke", action="store_true", help="take the admin flag away instead")
    args = parser.parse_args(argv)

    try:
        settings = load(args.config)
        if args.command == "init-db":
            print(f"database ready: {shown(init_database(settings))}")
        elif args.command == "set-admin":
            name = set_admin(settings, args.name, not args.revoke)
            print(f"{name} is {'no longer ' if args.revoke else ''}an admin"
                  + ("" if args.revoke else " (the console is at /admin)"))
        else:
            created, existed = create_users(settings, args.prefix, args.count, args.password,
                                            start=args.start, chips=args.chips)
            print(f"created {created} users, {existed} already existed "
                  f"({args.prefix}{args.start}..{args.prefix}{args.start + args.count - 1})")
    except (CliError, SchemaMismatch, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
