"""Backtests: the live strategy code over a bar history, with simulated fills, fees and slippage.

Two engines share the broker and the result building: :func:`run_event_driven` (any strategy,
bar by bar through ``on_bar``) and :func:`run_vectorised_sma_cross` (numpy, SMA crossover only).
"""

from processor.backtest.config import BacktestConfig, FillAt
from processor.backtest.data import BarSeries
from processor.backtest.event_engine import run_event_driven
from processor.backtest.results import BacktestResult, Summary, Trade
from processor.backtest.vector_engine import run_vectorised_sma_cross

__all__ = [
    "BacktestConfig",
    "BacktestResult",
    "BarSeries",
    "FillAt",
    "Summary",
    "Trade",
    "run_event_driven",
    "run_vectorised_sma_cross",
]
