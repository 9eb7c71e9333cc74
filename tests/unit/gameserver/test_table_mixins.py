"""`Table` (and the cash and sit-and-go tables built on it) is assembled from mixins that declare what
they use of the table: no declared stub may hide the real method at run time, and every method or
property a mixin declares for the type checker only must exist on the assembled table."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from gameserver.absence import Absence
from gameserver.cash_table import CashTable
from gameserver.fair_host import FairDealing
from gameserver.seating import Seating
from gameserver.sitandgo import SitAndGoTable
from gameserver.table import Table
from gameserver.table_frames import TableFrames
from gameserver.table_time import TableTime
from tests.unit.gameserver.test_server_mixins import is_stub, type_checking_methods

MIXINS = [TableTime, FairDealing, Absence, TableFrames, Seating]
TABLES = [Table, CashTable, SitAndGoTable]


def code_of(value: Any) -> Any:
    return value.fget if isinstance(value, property) else value


def test_the_table_is_its_mixins_in_order() -> None:
    assert Table.__mro__[1:6] == tuple(MIXINS)


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.__name__)
@pytest.mark.parametrize("mixin", MIXINS, ids=lambda m: m.__name__)
def test_no_declared_method_hides_the_real_one(table: type, mixin: type) -> None:
    for name, value in vars(mixin).items():
        if inspect.isfunction(value) and is_stub(value):
            assert not is_stub(code_of(getattr(table, name))), f"{mixin.__name__}.{name} is a stub on {table}"
    for name in type_checking_methods(mixin):
        assert name not in vars(mixin), name
        resolved = getattr(table, name, None)
        assert resolved is not None, f"{mixin.__name__} declares {name}, which {table.__name__} lacks"
        assert not is_stub(code_of(resolved)), f"{mixin.__name__}.{name} resolves to a stub"


def test_the_time_mixin_declares_what_it_uses_for_the_type_checker_only() -> None:
    declared = type_checking_methods(TableTime)
    assert "_clock_due" in declared and "grace_period" in declared
    assert not any(is_stub(v) for v in vars(TableTime).values() if inspect.isfunction(v))
