"""The browser client's table policy (frontend/static/js/policy.js), run in node: the defaults it fills in
for the settings a frame leaves out are the server's own (common/policy.py), and the views and the lobby
carry a default policy as `{}`."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import msgspec
import pytest

from common import protocol as p
from common.policy import TablePolicy

POLICY_JS = Path(__file__).resolve().parents[3] / "frontend" / "static" / "js" / "policy.js"
NODE = shutil.which("node")


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_the_clients_defaults_are_the_servers() -> None:
    assert NODE is not None
    script = "const { DEFAULTS } = await import(process.argv[1]); console.log(JSON.stringify(DEFAULTS));"
    out = subprocess.run([NODE, "--input-type=module", "-e", script, POLICY_JS.as_uri()], capture_output=True,
                         text=True, timeout=30, check=True).stdout
    assert json.loads(out) == msgspec.structs.asdict(TablePolicy())


def test_a_default_policy_is_sent_as_an_empty_object() -> None:
    view = json.loads(p.encode(p.View(table="t", seq=1, policy=TablePolicy())))
    assert view["policy"] == {}
    assert json.loads(p.encode(TablePolicy(grace=5, time_bank=0))) == {"grace": 5, "time_bank": 0}
