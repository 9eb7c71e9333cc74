"""Run-wide set-up: which database the suite runs on (tests/dbs.py), and stopping its server at the end;
Hypothesis's profile."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings

from tests import dbs

# The machine CI runs on is shared: a property test whose examples are drawn slowly there is not wrong.
# Hypothesis's speed check (`too_slow`) is off run-wide; every other check stays. Loaded here, before any
# test module is imported, so each test's own @settings builds on it.
settings.register_profile("felt", suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("felt")


def pytest_report_header(config: pytest.Config) -> str:
    return dbs.describe()


def pytest_configure(config: pytest.Config) -> None:
    dbs.backend()  # a wrong FELT_TEST_DATABASE fails the run before any test


def pytest_unconfigure(config: pytest.Config) -> None:
    dbs.shutdown()
