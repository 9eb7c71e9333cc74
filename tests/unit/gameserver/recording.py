"""A table host that keeps the entries it decided, as the store would: the log, for replay tests."""

from __future__ import annotations

from gameserver import entries as e
from gameserver.cash_table import CashTable
from gameserver.table import Result, Table


class Recording(Table):
    """Mixed in before a table class: every decided entry is appended to `journal`."""

    journal: list[e.AnyEntry]

    def handle(self, *args, **kw) -> Result:  # type: ignore[no-untyped-def]
        result = super().handle(*args, **kw)
        self.journal.extend(result.log)
        return result

    def tick(self, now: float) -> Result:
        result = super().tick(now)
        self.journal.extend(result.log)
        return result


class RecordingTable(Recording):
    pass


class RecordingCashTable(Recording, CashTable):
    pass
