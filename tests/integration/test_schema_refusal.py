"""Every process that uses the database refuses to start on a schema it does not know, and says why.

The real entry points (`python -m gameserver`, gunicorn with `frontend.wsgi`) on the run's database
(tests/dbs.py), empty: each exits non-zero with one line naming the fix, `scripts/ctl migrate`; after
the migration the game server starts. (The realtime tier opens no database.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from common.schema import migrate
from tests import dbs
from tests.integration.stack import ROOT, free_port


def environment(tmp_path: Path, url: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "FELT_CONFIG": "", "FELT_DATA_DIR": str(tmp_path),
            "FELT_SECRET": "refusal-test", "FELT_DATABASE_URL": url,
            "FELT_GAMESERVERS": json.dumps({"g1": f"tcp://127.0.0.1:{free_port()}"})}


def test_a_game_server_refuses_an_unmigrated_database_then_starts_once_migrated(tmp_path: Path) -> None:
    url = dbs.empty_database_url(tmp_path)
    env = environment(tmp_path, url)
    done = subprocess.run([sys.executable, "-m", "gameserver", "--name", "g1"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 3, done.stderr
    assert "felt: gameserver g1: the database" in done.stderr and "run `scripts/ctl migrate`" in done.stderr
    assert "Traceback" not in done.stderr

    migrate(url)
    proc = subprocess.Popen([sys.executable, "-m", "gameserver", "--name", "g1"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:  # the READY line, or everything it said before it exited
            lines.append(line)
            if line.startswith("READY gameserver g1"):
                break
        assert lines and lines[-1].startswith("READY gameserver g1"), "".join(lines)
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        if proc.stdout is not None:
            proc.stdout.close()


def test_the_frontend_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    env = environment(tmp_path, dbs.empty_database_url(tmp_path))
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    argv = [gunicorn, "--workers", "1", "--bind", f"127.0.0.1:{free_port()}", "frontend.wsgi:app"]
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "felt: frontend: the database" in done.stderr and "run `scripts/ctl migrate`" in done.stderr
