"""The vectorised SMA-crossover backtest: decisions from numpy on exact integer prices.

The crossover signals of every bar come from one pass of array arithmetic
(:func:`processor.vector_indicators.sma_cross_sides`); only the decisions (a few per thousand
bars) go through the same :class:`SimulatedBroker` as the event-driven engine, so both engines
give the same fills, trades and money to the last digit.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np

from algo_common.domain.models import Side
from processor.backtest.broker import SimulatedBroker
from processor.backtest.config import BacktestConfig, FillAt
from processor.backtest.data import BarSeries
from processor.backtest.results import BacktestResult, build_result
from processor.decimals import exact_context
from processor.strategies.sma_cross import SmaCross
from processor.vector_indicators import BUY, sma_cross_sides


def run_vectorised_sma_cross(series: BarSeries, fast: int, slow: int, config: BacktestConfig) -> BacktestResult:
    """``SmaCross(fast, slow)`` over ``series`` without a per-bar Python loop."""
    sides = sma_cross_sides(series.close_units, fast, slow)
    events = np.flatnonzero(sides)
    signals = len(events)
    if config.fill is FillAt.CLOSE:
        fill_bars, times, prices = events, series.close_time[events], series.close_units[events]
    else:
        events = events[events + 1 < len(series)]  # a decision at the last bar is never filled
        fill_bars = events + 1
        times, prices = series.open_time[fill_bars], series.open_units[fill_bars]
    broker = SimulatedBroker(config)
    execute, unit = broker.execute, series.price(1)
    with exact_context():  # Decimal(units) * unit is then exact, and the broker skips entering it per fill
        for signal_bar, side, bar, time, units in zip(
            events.tolist(), sides[events].tolist(), fill_bars.tolist(), times.tolist(), prices.tolist(), strict=True
        ):
            execute(Side.BUY if side == BUY else Side.SELL, signal_bar, bar, time, Decimal(units) * unit)
    params = {"fast": str(fast), "slow": str(slow)}
    return build_result(series, SmaCross.name, params, broker, signals, signals - len(events))
