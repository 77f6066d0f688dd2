"""The event-driven backtest: every bar through the strategy's ``on_bar``, as the live processor does.

The strategy object is the one the processor runs live (built by ``build_strategy``); only the
source of bars and the fill simulation differ. Decisions are filled by :class:`SimulatedBroker`
at the next bar's open or at the deciding bar's close (:class:`FillAt`).
"""

from __future__ import annotations

from collections.abc import Callable

from algo_common.domain.models import Side
from processor.backtest.broker import SimulatedBroker
from processor.backtest.config import BacktestConfig, FillAt
from processor.backtest.data import BarSeries
from processor.backtest.results import BacktestResult, build_result
from processor.decimals import exact_context
from processor.strategies.base import Strategy

Progress = Callable[[int], None]
"""Called with the number of bars done so far, every :data:`CHUNK` bars and at the end."""

CHUNK = 16_384


def run_event_driven(
    series: BarSeries, strategy: Strategy, config: BacktestConfig, progress: Progress | None = None
) -> BacktestResult:
    """Feed every bar of ``series`` to a fresh ``strategy``, oldest first, and simulate its decisions."""
    broker = SimulatedBroker(config)
    with exact_context():  # strategies written with operators skip entering it on every bar
        signals, unfilled = _feed(series, strategy, broker, config.fill is FillAt.CLOSE, progress)
    return build_result(series, strategy.name, strategy.params(), broker, signals, unfilled)


def _feed(
    series: BarSeries, strategy: Strategy, broker: SimulatedBroker, at_close: bool, progress: Progress | None
) -> tuple[int, int]:
    """The hot loop; returns (decisions, decisions left unfilled at the end)."""
    klines = series.klines
    on_bar = strategy.on_bar
    execute = broker.execute
    pending: Side | None = None
    signals = 0
    for start in range(0, len(klines), CHUNK):
        for i, bar in enumerate(klines[start : start + CHUNK], start):
            if pending is not None:
                execute(pending, i - 1, i, bar.open_time, bar.open)
                pending = None
            decision = on_bar(bar)
            if decision is not None:
                signals += 1
                if at_close:
                    execute(decision.side, i, i, bar.close_time, bar.close)
                else:
                    pending = decision.side
        if progress is not None:
            progress(min(start + CHUNK, len(klines)))
    return signals, int(pending is not None)
