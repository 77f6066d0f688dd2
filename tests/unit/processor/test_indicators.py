"""Incremental SMA: exact Decimal values, reproduced against the reference numbers of the hourly file."""

from __future__ import annotations

from decimal import Decimal

import pytest

from algo_common.domain.models import Kline
from processor.indicators import SMA, Indicator

SEVEN_DECIMALS = Decimal("0.0000001")

# README "SMA values of the last 3 bars" for tests/fixtures/btcusdt-1h.csv (bars 7474, 7475, 7476).
REFERENCE_SMAS = {
    10: ("35917.882", "36138.573", "36369.145"),
    30: ("34215.159", "34379.3043333", "34553.6956667"),
    50: ("33746.8108", "33799.9728", "33865.4668"),
    200: ("36118.98075", "36121.28985", "36127.05365"),
}


def test_sma_is_none_until_the_window_is_full_then_the_mean_of_the_last_n() -> None:
    # arrange
    sma: Indicator = SMA(3)
    # act
    values = [sma.update(Decimal(v)) for v in ("1", "2", "3", "4", "10")]
    # assert
    assert values == [None, None, Decimal(2), Decimal(3), Decimal("5.666666666666666666666666667")]
    assert sma.ready
    assert sma.value == values[-1]


def test_sma_sum_stays_exact_over_many_updates() -> None:
    # arrange: values whose binary-float sum would drift
    sma = SMA(2)
    # act
    for _ in range(10_000):
        sma.update(Decimal("0.1"))
    last = sma.update(Decimal("0.2"))
    # assert
    assert last == Decimal("0.15")


def test_sma_rejects_a_period_below_one() -> None:
    with pytest.raises(ValueError, match="period"):
        SMA(0)


@pytest.mark.parametrize("period", sorted(REFERENCE_SMAS))
def test_sma_of_the_last_three_bars_matches_the_reference(hourly_bars: list[Kline], period: int) -> None:
    # arrange
    sma = SMA(period)
    # act
    values = [sma.update(bar.close) for bar in hourly_bars]
    # assert
    assert len(hourly_bars) == 7477
    last_three = values[-3:]
    for value, expected in zip(last_three, REFERENCE_SMAS[period], strict=True):
        assert value is not None
        assert value.quantize(SEVEN_DECIMALS) == Decimal(expected).quantize(SEVEN_DECIMALS)


def test_sma_values_that_are_exact_decimals_are_exactly_equal(hourly_bars: list[Kline]) -> None:
    # arrange
    sma = SMA(10)
    # act
    values = [sma.update(bar.close) for bar in hourly_bars]
    # assert: no rounding at all where the mean is a finite decimal
    assert values[-3:] == [Decimal("35917.882"), Decimal("36138.573"), Decimal("36369.145")]
