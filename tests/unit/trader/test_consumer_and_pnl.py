"""Consumer name per pod and the UTC day of the daily-loss limit."""

from __future__ import annotations

from decimal import Decimal

import pytest

from algo_common.domain.models import Side
from tests.unit.trader.trader_builders import make_fill
from trader.consumer import consumer_name
from trader.daily_pnl import day_changes, utc_day
from trader.position import Position


@pytest.mark.parametrize(
    ("configured", "env", "expected"),
    [
        ("trader-x", {"POD_NAME": "trader-7d9-abc", "HOSTNAME": "h"}, "trader-x"),
        ("", {"POD_NAME": "trader-7d9-abc", "HOSTNAME": "h"}, "trader-7d9-abc"),
        ("  ", {"HOSTNAME": "trader-host"}, "trader-host"),
    ],
)
def test_consumer_name_prefers_setting_then_pod_then_host(configured: str, env: dict[str, str], expected: str) -> None:
    # act / assert
    assert consumer_name(configured, env) == expected


def test_consumer_name_falls_back_to_the_host_name() -> None:
    # act / assert
    assert consumer_name("", {}) != ""


def test_utc_day_boundaries() -> None:
    # act / assert
    assert utc_day(0) == "1970-01-01"
    assert utc_day(86_400_000 - 1) == "1970-01-01"
    assert utc_day(86_400_000) == "1970-01-02"


def test_day_changes_split_realized_pnl_and_fees_by_the_fill_day() -> None:
    # arrange: bought 1 at 100 yesterday; sells 0.5 at 90 before midnight and 0.5 at 120 after it
    held = Position(venue="paper", symbol="BTCUSDT", qty=Decimal(1), avg_entry_price=Decimal(100))
    before = make_fill(Side.SELL, "90", "0.5", fee="0.045", n=86_400_000 - 1)
    after = make_fill(Side.SELL, "120", "0.5", fee="0.06", n=86_400_000)
    # act
    changes = day_changes(held, [before, after], "USDT")
    # assert
    assert changes["1970-01-01"].realized_pnl == Decimal("-5.0")
    assert changes["1970-01-01"].fees == Decimal("0.045")
    assert changes["1970-01-02"].realized_pnl == Decimal("10.0")
