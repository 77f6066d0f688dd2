"""Both backtest engines reproduce the reference numbers of tests/fixtures/btcusdt-1h.csv exactly.

Reference (shared/data/README.md, produced by backtesting.py 0.6.6 and an exact-decimal loop):
SMA crossover, long only, 1 BTC, next-open fills, 1,000,000 cash, no fees, no slippage.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from processor.backtest import (
    BacktestConfig,
    BacktestResult,
    BarSeries,
    FillAt,
    run_event_driven,
    run_vectorised_sma_cross,
)
from processor.backtest.csv_source import read_csv
from processor.strategies import build_strategy

CSV = Path(__file__).parents[2] / "fixtures" / "btcusdt-1h.csv"
REFERENCE = {
    # (fast, slow): closed trades, winning trades, realized PnL, final equity,
    #               first trade (entry bar, entry price, exit bar, exit price), last closed trade
    (10, 30): (157, 58, "16171.70", "1020688.98",
               (37, "11231.15", 60, "11220.59"), (7394, "35869.80", 7425, "35634.45")),
    (50, 200): (20, 9, "28584.70", "1028584.70",
                (318, "11863.66", 449, "11854.34"), (7310, "37469.32", 7388, "35851.36")),
}  # fmt: skip


@pytest.fixture(scope="module")
def series() -> BarSeries:
    return read_csv(CSV, "BTCUSDT")


def event_driven(series: BarSeries, fast: int, slow: int) -> BacktestResult:
    return run_event_driven(series, build_strategy("sma_cross", fast, slow), BacktestConfig())


def vectorised(series: BarSeries, fast: int, slow: int) -> BacktestResult:
    return run_vectorised_sma_cross(series, fast, slow, BacktestConfig())


@pytest.mark.parametrize("engine", [event_driven, vectorised], ids=["event-driven", "vectorised"])
@pytest.mark.parametrize(("fast", "slow"), sorted(REFERENCE))
def test_engine_reproduces_the_reference_numbers(series: BarSeries, engine: object, fast: int, slow: int) -> None:
    # arrange
    trades, winners, realized, equity, first, last = REFERENCE[fast, slow]
    # act
    result = engine(series, fast, slow)  # type: ignore[operator]
    # assert: exact Decimals, no rounding
    s = result.summary
    assert (s.closed_trades, s.winning_trades) == (trades, winners)
    assert (s.realized_pnl, s.final_equity) == (Decimal(realized), Decimal(equity))
    assert s.fees == 0
    closed = result.closed_trades
    for trade, (entry_bar, entry_price, exit_bar, exit_price) in ((closed[0], first), (closed[-1], last)):
        assert trade.exit is not None
        assert (trade.entry.bar, trade.entry.price) == (entry_bar, Decimal(entry_price))
        assert (trade.exit.bar, trade.exit.price) == (exit_bar, Decimal(exit_price))


def test_sma_10_30_ends_with_the_reference_open_position(series: BarSeries) -> None:
    # act
    result = event_driven(series, 10, 30)
    # assert
    open_trade = result.trades[-1]
    assert open_trade.exit is None
    assert (open_trade.entry.bar, open_trade.entry.price) == (7456, Decimal("32870.77"))
    assert result.summary.unrealized_pnl == Decimal("4517.28")
    assert result.summary.open_position


@pytest.mark.parametrize(("fast", "slow"), sorted(REFERENCE))
def test_both_engines_give_identical_fills_and_summaries(series: BarSeries, fast: int, slow: int) -> None:
    # act
    a, b = event_driven(series, fast, slow), vectorised(series, fast, slow)
    # assert
    assert a.fills == b.fills
    assert a.trades == b.trades
    assert a.summary == b.summary
    assert (a.equity == b.equity).all()


@pytest.mark.parametrize("fill", list(FillAt))
def test_engines_agree_with_fees_slippage_and_either_fill_convention(series: BarSeries, fill: FillAt) -> None:
    # arrange
    config = BacktestConfig(fee_rate=Decimal("0.001"), slippage=Decimal("0.0005"), quantity=Decimal("0.5"), fill=fill)
    # act
    a = run_event_driven(series, build_strategy("sma_cross", 10, 30), config)
    b = run_vectorised_sma_cross(series, 10, 30, config)
    # assert
    assert a.fills == b.fills
    assert a.summary == b.summary
    assert a.summary.fees > 0
    assert all(f.bar == f.signal_bar + (fill is FillAt.NEXT_OPEN) for f in a.fills)
