"""SMA, EMA and RSI equal TA-Lib's on the real hourly file: the incremental Decimal path and the numpy path.

Comparison rule (documented in processor.indicators / processor.vector_indicators): float values
within 1e-9 relative; Decimal values (28 significant digits) are compared as floats by the same
rule. The first value must appear at the same bar as TA-Lib's first non-NaN output.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import numpy as np
import pytest
import talib
from numpy.typing import NDArray

from algo_common.domain.models import Kline
from processor import vector_indicators
from processor.indicators import EMA, RSI, SMA, Indicator

RELATIVE = 1e-9
PERIODS = [2, 10, 14, 30, 50, 200]

Floats = NDArray[np.float64]
INCREMENTAL: dict[str, Callable[[int], Indicator]] = {"SMA": SMA, "EMA": EMA, "RSI": RSI}
VECTORISED: dict[str, Callable[[Floats, int], Floats]] = {
    "SMA": vector_indicators.sma,
    "EMA": vector_indicators.ema,
    "RSI": vector_indicators.rsi,
}
TALIB: dict[str, Callable[..., Floats]] = {"SMA": talib.SMA, "EMA": talib.EMA, "RSI": talib.RSI}


def closes(bars: list[Kline]) -> Floats:
    return np.array([float(b.close) for b in bars])


def incremental(name: str, bars: list[Kline], period: int) -> list[Decimal | None]:
    indicator = INCREMENTAL[name](period)
    return [indicator.update(b.close) for b in bars]


def as_floats(values: list[Decimal | None]) -> Floats:
    return np.array([np.nan if v is None else float(v) for v in values])


@pytest.mark.parametrize("period", PERIODS)
@pytest.mark.parametrize("name", ["SMA", "EMA", "RSI"])
def test_incremental_decimal_values_equal_talib(hourly_bars: list[Kline], name: str, period: int) -> None:
    # arrange
    reference = TALIB[name](closes(hourly_bars), timeperiod=period)
    # act
    values = as_floats(incremental(name, hourly_bars, period))
    # assert: same first bar, then every value within 1e-9 relative
    assert np.array_equal(np.isnan(values), np.isnan(reference))
    np.testing.assert_allclose(values, reference, rtol=RELATIVE, atol=0)


@pytest.mark.parametrize("period", PERIODS)
@pytest.mark.parametrize("name", ["SMA", "EMA", "RSI"])
def test_vectorised_values_equal_talib(hourly_bars: list[Kline], name: str, period: int) -> None:
    # arrange
    prices = closes(hourly_bars)
    reference = TALIB[name](prices, timeperiod=period)
    # act
    values = VECTORISED[name](prices, period)
    # assert
    assert np.array_equal(np.isnan(values), np.isnan(reference))
    np.testing.assert_allclose(values, reference, rtol=RELATIVE, atol=0)


@pytest.mark.parametrize("period", PERIODS)
@pytest.mark.parametrize("name", ["SMA", "EMA", "RSI"])
def test_incremental_and_vectorised_values_equal_each_other(hourly_bars: list[Kline], name: str, period: int) -> None:
    # act
    exact = as_floats(incremental(name, hourly_bars, period))
    vectorised = VECTORISED[name](closes(hourly_bars), period)
    # assert: closer to each other than either is to TA-Lib's running float sums
    assert np.array_equal(np.isnan(exact), np.isnan(vectorised))
    np.testing.assert_allclose(vectorised, exact, rtol=1e-11, atol=0)


def test_the_reference_smas_of_the_last_bar_are_exact_decimals(hourly_bars: list[Kline]) -> None:
    # act
    last = {period: incremental("SMA", hourly_bars, period)[-1] for period in (10, 50, 200)}
    # assert: README values, digit for digit (these means are finite decimals: no rounding at all)
    assert last == {10: Decimal("36369.145"), 50: Decimal("33865.4668"), 200: Decimal("36127.05365")}
