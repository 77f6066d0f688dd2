"""Fixtures of the processor unit tests."""

from __future__ import annotations

import pytest

from algo_common.domain.models import Kline
from tests.unit.processor.processor_builders import load_hourly_bars


@pytest.fixture(scope="session")
def hourly_bars() -> list[Kline]:
    """tests/fixtures/btcusdt-1h.csv as closed 1h bars, oldest first (loaded once)."""
    return load_hourly_bars()
