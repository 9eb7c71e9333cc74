"""A table host that keeps the entries it decided, as the store would: the log, for replay tests."""

from __future__ import annotations

from common import protocol as p
from gameserver import entries as e
from gameserver.cash_table import CashTable
from gameserver.sitandgo import SitAndGoTable
from gameserver.table import Result, Sender, Table


class Recording(Table):
    """Mixed in before a table class: every decided entry is appended to `journal`."""

    journal: list[e.AnyEntry]

    def handle(self, who: Sender, req: p.TableRequest, rid: int, now: float) -> Result:
        result = super().handle(who, req, rid, now)
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


class RecordingSitAndGo(Recording, SitAndGoTable):
    pass
