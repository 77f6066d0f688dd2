"""The exact equity curve (Decimal at each bar close), for files people keep; O(bars) Decimal work."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from processor.backtest.results import BacktestResult
from processor.decimals import EXACT

_ADD = EXACT.add
_MULTIPLY = EXACT.multiply


def exact_equity(result: BacktestResult) -> Iterator[tuple[int, Decimal, Decimal]]:
    """(bar close time, position, equity) at each bar close: cash + position * close, exactly."""
    fills = result.fills
    cash = result.config.cash
    position = Decimal(0)
    k = 0
    for i, bar in enumerate(result.series.klines):
        while k < len(fills) and fills[k].bar == i:
            cash, position = fills[k].cash_after, fills[k].position_after
            k += 1
        yield bar.close_time, position, _ADD(cash, _MULTIPLY(position, bar.close))
