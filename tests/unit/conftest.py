"""Fixtures the unit tests of several tiers share."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from common.db import make_engine
from tests import dbs


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    """A fresh database of the suite's kind (SQLite, or PostgreSQL), disposed of after the test."""
    made = make_engine(dbs.database_url(tmp_path))
    yield made
    made.dispose()
