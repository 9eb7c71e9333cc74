"""Run-wide set-up: which database the suite runs on (tests/dbs.py), and stopping its server at the end."""

from __future__ import annotations

import pytest

from tests import dbs


def pytest_report_header(config: pytest.Config) -> str:
    return dbs.describe()


def pytest_configure(config: pytest.Config) -> None:
    dbs.backend()  # a wrong FELT_TEST_DATABASE fails the run before any test


def pytest_unconfigure(config: pytest.Config) -> None:
    dbs.shutdown()
