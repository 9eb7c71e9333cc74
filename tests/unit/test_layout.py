"""The dependency rule: imports point inward. Rules are pure; common imports no tier."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STDLIB = set(sys.stdlib_module_names)


def imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_rules_import_only_the_stdlib_and_common_types() -> None:
    allowed = ("common.protocol", "common.cards", "common.views", "gameserver.rules")
    for path in sorted((ROOT / "gameserver" / "rules").glob("*.py")):
        for name in imports(path):
            ok = name.split(".")[0] in STDLIB or name.startswith(allowed)
            assert ok, f"{path.name} imports {name}"


def test_rules_use_no_global_random_and_no_clock() -> None:
    for path in sorted((ROOT / "gameserver" / "rules").glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                if node.value.id == "random":  # only random.Random (a type or a seeded instance)
                    assert node.attr == "Random", f"{path.name}: random.{node.attr}"
                assert node.value.id != "time", f"{path.name} reads the clock"
        assert "socket" not in imports(path) and "sqlalchemy" not in imports(path)


def test_table_host_does_no_io() -> None:
    for name in ("table.py", "cash_table.py"):
        for module in imports(ROOT / "gameserver" / name):
            assert module.split(".")[0] not in ("zmq", "sqlalchemy", "socket", "tornado", "time"), (name, module)


def test_common_imports_no_tier() -> None:
    for path in sorted((ROOT / "common").glob("*.py")):
        for name in imports(path):
            assert name.split(".")[0] not in ("frontend", "realtime", "gameserver", "tornado", "flask", "zmq"), \
                f"common/{path.name} imports {name}"
