"""The dependency rule: imports point inward. Rules are pure; common imports no tier.

The import contracts in pyproject.toml (`lint-imports`, run by scripts/check) check every tier rule; these AST
checks add what a contract cannot say: that rules import nothing but the standard library and a few common
modules (an allow-list, where a contract lists what is forbidden), that they use no global random, and that
any `gameserver/engine*` or `gameserver/reducer*` module does no I/O (a contract names modules one by one).
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GAMESERVER = ROOT / "gameserver"
STDLIB = set(sys.stdlib_module_names)
#: What the table host (and any engine or reducer beside it) must never import: it does no I/O.
HOST_FORBIDDEN = ("zmq", "sqlalchemy", "socket", "tornado", "time")
TIERS_AND_FRAMEWORKS = ("frontend", "realtime", "gameserver", "tornado", "flask", "zmq")


def imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def table_host_modules() -> Iterator[Path]:
    """table.py, cash_table.py, table_types.py, and any engine*/reducer* module (or package)."""
    yield GAMESERVER / "table.py"
    yield GAMESERVER / "cash_table.py"
    yield GAMESERVER / "table_types.py"
    for pattern in ("engine*", "reducer*"):
        for path in sorted(GAMESERVER.glob(pattern)):
            if path.is_dir():
                yield from sorted(path.rglob("*.py"))
            elif path.suffix == ".py":
                yield path


def test_rules_import_only_the_stdlib_and_common_types() -> None:
    allowed = ("common.protocol", "common.cards", "common.views", "gameserver.rules")
    for path in sorted((ROOT / "gameserver" / "rules").glob("*.py")):
        for name in imports(path):
            ok = name.split(".")[0] in STDLIB or name.startswith(allowed)
            assert ok, f"{path.name} imports {name}"


def test_rules_use_no_global_random_and_no_clock() -> None:
    for path in sorted((GAMESERVER / "rules").glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                if node.value.id == "random":  # only random.Random (a type or a seeded instance)
                    assert node.attr == "Random", f"{path.name}: random.{node.attr}"
                assert node.value.id != "time", f"{path.name} reads the clock"
        assert "socket" not in imports(path) and "sqlalchemy" not in imports(path)


def test_table_host_does_no_io() -> None:
    for path in table_host_modules():
        for module in imports(path):
            assert module.split(".")[0] not in HOST_FORBIDDEN, (path.name, module)


def test_common_imports_no_tier() -> None:
    for path in sorted((ROOT / "common").glob("*.py")):
        for name in imports(path):
            if path.name == "curve.py" and name.split(".")[0] == "zmq":
                continue  # the CurveZMQ keys both ZeroMQ tiers share: the one exception
            assert name.split(".")[0] not in TIERS_AND_FRAMEWORKS, f"common/{path.name} imports {name}"
