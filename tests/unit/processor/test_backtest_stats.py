"""Equity curve and the documented statistics: drawdown, Sharpe, exposure; the exact equity file values."""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from algo_common.domain.models import Side
from processor.backtest import BacktestConfig, run_event_driven
from processor.backtest.broker import Fill
from processor.backtest.csv_source import read_csv
from processor.backtest.equity import exact_equity
from processor.backtest.stats import bars_per_year, equity_curve, max_drawdown, sharpe
from processor.strategies import build_strategy

CSV = Path(__file__).parents[2] / "fixtures" / "btcusdt-1h.csv"


def fill(bar: int, side: Side, cash_after: str, position_after: str) -> Fill:
    return Fill(bar, bar, 0, side, Decimal(1), Decimal(2), Decimal(0), Decimal(cash_after), Decimal(position_after))


def test_equity_is_cash_plus_the_position_marked_at_each_close() -> None:
    # arrange: buy 2 at bar 1 (cash 1000 -> 800), sell at bar 3 (cash -> 830)
    close = np.array([100.0, 100.0, 110.0, 115.0, 120.0])
    fills = [fill(1, Side.BUY, "800", "2"), fill(3, Side.SELL, "830", "0")]
    # act
    curve = equity_curve(close, fills, Decimal(1000))
    # assert
    assert curve.equity.tolist() == [1000.0, 1000.0, 1020.0, 830.0, 830.0]
    assert curve.exposure == pytest.approx(2 / 5)


def test_max_drawdown_is_the_largest_fall_from_a_running_peak() -> None:
    # act / assert: peak 120, trough 90 -> 25 %
    assert max_drawdown(np.array([100.0, 120.0, 90.0, 130.0, 125.0])) == pytest.approx(0.25)
    assert max_drawdown(np.array([100.0, 101.0, 102.0])) == 0.0


def test_sharpe_is_mean_over_sample_stdev_of_bar_returns_times_root_bars_per_year() -> None:
    # arrange: returns +10 %, -10 %, +10 %
    equity = np.array([100.0, 110.0, 99.0, 108.9])
    returns = np.array([0.1, -0.1, 0.1])
    expected = returns.mean() / returns.std(ddof=1) * math.sqrt(8760)
    # act / assert
    assert sharpe(equity, bars_per_year(3_600_000)) == pytest.approx(expected, rel=1e-12)
    assert bars_per_year(86_400_000) == 365
    assert sharpe(np.full(10, 5.0), 365) is None
    assert sharpe(np.array([1.0, 2.0]), 365) is None


def test_the_exact_equity_curve_matches_the_summary_and_the_float_curve() -> None:
    # arrange
    series = read_csv(CSV, "BTCUSDT")
    config = BacktestConfig(fee_rate=Decimal("0.001"), slippage=Decimal("0.0002"))
    result = run_event_driven(series, build_strategy("sma_cross", 10, 30), config)
    # act
    rows = list(exact_equity(result))
    # assert
    assert len(rows) == len(series)
    assert rows[-1][2] == result.summary.final_equity
    np.testing.assert_allclose([float(r[2]) for r in rows], result.equity, rtol=1e-12)
    assert {r[1] for r in rows} == {Decimal(0), Decimal(1)}
