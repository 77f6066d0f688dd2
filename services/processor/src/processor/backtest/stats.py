"""Statistics of a backtest's equity curve, in float64: ratios for reading, never money.

Formulas (documented in docs/performance.md too):
- equity[t] = cash after the fills up to bar t + position * close[t], marked at every bar close;
- max drawdown = max over t of (peak[t] - equity[t]) / peak[t], peak = running maximum of equity;
- Sharpe = mean(r) / stdev(r) * sqrt(bars per year), r[t] = equity[t] / equity[t-1] - 1 per bar,
  sample stdev (ddof=1), risk-free rate 0, 365-day year (crypto trades every day and hour):
  8,760 bars per year for 1h bars, 365 for 1d, 525,600 for 1m;
- exposure = share of bars that close while holding a position.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from processor.backtest.broker import Fill

YEAR_MS = 365 * 24 * 3_600_000


def bars_per_year(interval_ms: int) -> float:
    return YEAR_MS / interval_ms


class Curve(NamedTuple):
    equity: NDArray[np.float64]
    """Equity at each bar close."""
    exposure: float
    """Share of bars that close holding a position."""


def equity_curve(close: NDArray[np.float64], fills: Sequence[Fill], initial_cash: Decimal) -> Curve:
    """The equity at each bar close from the fills (in bar order), without a per-bar Python loop.

    Cash and position are constant between fills: each value is repeated over the bars up to the
    next fill, and the position is marked at each close.
    """
    n = len(close)
    cash = np.array([float(initial_cash), *(float(f.cash_after) for f in fills)])
    held = np.array([False, *(bool(f.position_after) for f in fills)])
    bounds = np.array([0, *(f.bar for f in fills), n], dtype=np.int64)
    lengths = np.diff(bounds)  # bars from each fill (or the start) up to the next one
    equity = np.repeat(cash, lengths)
    if fills:  # one position size (the broker's fixed quantity) is marked at every close while held
        value = close * float(fills[0].quantity)
        np.add(equity, value, out=equity, where=np.repeat(held, lengths))
    return Curve(equity, int(lengths[held].sum()) / n if n else 0.0)


def max_drawdown(equity: NDArray[np.float64]) -> float:
    if len(equity) == 0:
        return 0.0
    ratio = np.maximum.accumulate(equity)
    np.divide(equity, ratio, out=ratio)
    return 1.0 - float(np.min(ratio))


def sharpe(equity: NDArray[np.float64], periods_per_year: float) -> float | None:
    """Annualised Sharpe ratio of per-bar returns; None when undefined (fewer than 3 bars, flat equity)."""
    if len(equity) < 3:
        return None
    growth = equity[1:] / equity[:-1]  # 1 + r: the same deviations as r, one pass fewer
    mean = float(np.mean(growth))
    deviations = growth - mean
    variance = float(np.einsum("i,i->", deviations, deviations)) / (len(growth) - 1)
    if not 0.0 < variance < math.inf:
        return None
    return (mean - 1.0) / math.sqrt(variance) * math.sqrt(periods_per_year)
