"""Instructions per move of one game server, counted by valgrind (callgrind): a figure that, unlike CPU
time, does not move when other work shares the machine.

`python -m scripts.felt_load.instrcount [--code DIR] [--tables 4] [--batch 4]` runs the no-network game
server of `rulesbench --server-only` (its handlers, the SQLite group commit, encoded frames; a stub
socket) under callgrind twice, for `--short` and `--long` moves, and prints the instructions per move of
the difference (start-up and set-up cancel out). With 4 tables and 4 moves a pass it is a pass of the
size the game server sees at about 1,000 moves/s in `scripts/bench`. `--code`: another checkout (its
tiers, this script's driver), to compare versions on the same machine. `--rules GAME`: that game's
rules alone instead (`rulesbench --rules`: `apply` over recorded games). Needs `valgrind` (Debian
package); takes a minute or two.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from scripts.felt_load.procs import ROOT, python

_TOTAL = re.compile(r"summary:\s+(\d+)")


def instructions(code: Path, actions: int, tables: int, batch: int, rules: str | None = None) -> int:
    """Instructions (Ir) of one run of the game server for `actions` moves (`rules`: of that game's
    rules alone, replaying recorded games)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        driver = ROOT / "scripts" / "felt_load" / "rulesbench.py"
        what = (["--rules", rules] if rules
                else ["--server-only", "--tables", str(tables), "--batch", str(batch)])
        subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", python(), str(driver),
                        *what, "--actions", str(actions)], cwd=code,
                       env={**os.environ, "PYTHONPATH": f"{code}:{ROOT}"}, check=True, capture_output=True,
                       timeout=1800)
        found = _TOTAL.search(out.read_text(errors="replace"))
        if found is None:
            raise RuntimeError(f"no totals in {out}")
        return int(found.group(1))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--code", type=Path, default=ROOT, help="the checkout whose game server runs")
    ap.add_argument("--tables", type=int, default=4)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--short", type=int, default=500)
    ap.add_argument("--long", type=int, default=1500)
    ap.add_argument("--rules", metavar="GAME", help="count that game's rules alone (`apply` over recorded "
                    "games; try --short 2000 --long 8000)")
    args = ap.parse_args(argv)
    short = instructions(args.code.resolve(), args.short, args.tables, args.batch, args.rules)
    long = instructions(args.code.resolve(), args.long, args.tables, args.batch, args.rules)
    per_move = (long - short) / (args.long - args.short)
    where = {"rules": args.rules} if args.rules else {"tables": args.tables, "batch": args.batch}
    print(json.dumps({"code": str(args.code), **where, "instructions_per_move": round(per_move)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
