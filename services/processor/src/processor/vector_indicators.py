"""The indicators over a whole history at once (numpy), for backtests and checks. Pure.

Float64 versions (:func:`sma`, :func:`ema`, :func:`rsi`) follow TA-Lib's definitions and output
layout (NaN where TA-Lib has no value yet) and agree with TA-Lib and with the incremental Decimal
indicators to about 1e-12 relative. The crossover signals (:func:`sma_cross_sides`) are computed
on exact integers instead, so their ties are real ties and they equal the event-driven
``SmaCross`` decision for decision.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]
Sides = NDArray[np.int8]

BUY = 1
SELL = -1

_MAX_GROWTH = 1e100
"""Largest factor one block of :func:`linear_recurrence` lets its terms grow by (far below float64's 1e308)."""
_MAX_BLOCK = 4096


def sma(values: Floats, period: int) -> Floats:
    """Mean of the last ``period`` values at each index (NaN before index ``period - 1``)."""
    out = np.full(values.shape, np.nan)
    if period < 1 or len(values) < period:
        return out
    sums = np.cumsum(values)
    out[period - 1] = sums[period - 1]
    out[period:] = sums[period:] - sums[:-period]
    out[period - 1 :] /= period
    return out


def ema(values: Floats, period: int) -> Floats:
    """TA-Lib ``EMA``: the SMA of the first ``period`` values, then ``alpha = 2 / (period + 1)``."""
    out = np.full(values.shape, np.nan)
    if period < 1 or len(values) < period:
        return out
    alpha = 2.0 / (period + 1)
    seed = float(np.mean(values[:period]))
    out[period - 1] = seed
    out[period:] = linear_recurrence(values[period:], 1.0 - alpha, alpha, seed)
    return out


def rsi(values: Floats, period: int) -> Floats:
    """TA-Lib ``RSI`` (Wilder): first value at index ``period``; 0 where gains and losses are both 0."""
    out = np.full(values.shape, np.nan)
    if period < 2 or len(values) <= period:
        return out
    changes = np.diff(values)
    gains = np.where(changes > 0, changes, 0.0)
    losses = np.where(changes < 0, -changes, 0.0)
    decay, weight = (period - 1) / period, 1.0 / period
    avg_gain = np.empty(len(changes) - period + 1)
    avg_loss = np.empty_like(avg_gain)
    avg_gain[0] = np.mean(gains[:period])
    avg_loss[0] = np.mean(losses[:period])
    avg_gain[1:] = linear_recurrence(gains[period:], decay, weight, float(avg_gain[0]))
    avg_loss[1:] = linear_recurrence(losses[period:], decay, weight, float(avg_loss[0]))
    total = avg_gain + avg_loss
    safe = np.where(total == 0.0, 1.0, total)
    out[period:] = np.where(total == 0.0, 0.0, 100.0 * avg_gain / safe)
    return out


def linear_recurrence(values: Floats, decay: float, weight: float, initial: float) -> Floats:
    """``y[t] = decay * y[t-1] + weight * values[t]`` with ``y[-1] = initial``, for 0 <= decay < 1.

    Vectorised by blocks: inside a block ``y[j] = decay**(j+1) * (y_start + weight * sum(values[i] /
    decay**(i+1)))``, a cumulative sum. Blocks are short enough that ``decay**-len`` stays below
    1e100, so nothing overflows. For non-negative inputs (prices, gains, losses) every term has the
    same sign and the result is accurate to a few float64 ulps times the block length.
    """
    out = np.empty(values.shape)
    if len(values) == 0:
        return out
    if decay == 0.0:
        out[:] = weight * values
        return out
    block = max(1, min(_MAX_BLOCK, int(math.log(_MAX_GROWTH) / -math.log(decay))))
    growth = decay ** -np.arange(1, block + 1, dtype=np.float64)
    previous = initial
    for start in range(0, len(values), block):
        chunk = values[start : start + block]
        scale = growth[: len(chunk)]
        y = (previous + weight * np.cumsum(chunk * scale)) / scale
        out[start : start + len(chunk)] = y
        previous = float(y[-1])
    return out


def window_sums(values: Ints, period: int) -> Ints:
    """Exact sum of each ``period`` consecutive integers, for the windows ending at ``period - 1 ...``.

    The cumulative sum may wrap around int64; the difference of two wrapped sums is still the
    exact window sum as long as that fits in int64, which the caller guarantees.
    """
    return _windows(np.cumsum(values, dtype=np.int64), period)


def sma_cross_sides(units: Ints, fast: int, slow: int) -> Sides:
    """Per bar: BUY (1), SELL (-1) or 0, by exactly ``SmaCross``'s rule, on integer prices.

    ``units`` are prices as integers of one common scale (see ``backtest.data``). The fast and slow
    means are compared as ``sum_fast * slow`` against ``sum_slow * fast``, exactly; when those
    products could overflow int64 the comparison runs on Python integers (slower, still exact).
    """
    if not 1 <= fast < slow:
        raise ValueError(f"need 1 <= fast < slow, got fast={fast} slow={slow}")
    n = len(units)
    sides = np.zeros(n, dtype=np.int8)
    if n <= slow:
        return sides
    if int(np.max(np.abs(units))) * fast * slow < 2**62:
        sums = np.zeros(n + 1, dtype=np.int64)  # sums[i] = units[0] + ... + units[i - 1]
        np.cumsum(units, out=sums[1:])
        gap = sums[slow:] - sums[slow - fast : n + 1 - fast]  # fast window sums at bars slow-1 ... n-1
        gap *= slow
        slow_sums = sums[slow:] - sums[: n + 1 - slow]
        slow_sums *= fast
        gap -= slow_sums
    else:
        exact = np.cumsum(units.astype(object))
        gap = _windows(exact, fast)[slow - fast :] * slow - _windows(exact, slow) * fast
    above, below = gap > 0, gap < 0  # at bars slow-1 ... n-1
    buy = above[1:] & ~above[:-1]  # previous bar at or below, this one strictly above
    sell = below[1:] & ~below[:-1]
    np.subtract(buy.view(np.int8), sell.view(np.int8), out=sides[slow:])
    return sides


def _windows(sums: NDArray[Any], period: int) -> NDArray[Any]:
    """Window sums from cumulative sums: ``sums[i] - sums[i - period]`` (just ``sums[i]`` for the first)."""
    out = sums[period - 1 :].copy()
    out[1:] -= sums[:-period]
    return out
