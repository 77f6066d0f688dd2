"""A bar history ready for both backtest engines: Decimal klines and integer/float columns.

The event-driven engine feeds ``klines`` to a strategy; the vectorised one reads the integer
price columns (prices times ``10**scale``, exact) and both read ``close`` (float64) only for
statistics and plots, never for money.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
from numpy.typing import NDArray

from algo_common.domain.models import Kline
from processor.decimals import EXACT
from processor.intervals import SUPPORTED_INTERVALS, interval_ms

MAX_SCALE = 18


@dataclass(frozen=True, eq=False)
class BarSeries:
    """Closed bars of one symbol and interval, oldest first, strictly increasing open times."""

    symbol: str
    interval: str
    klines: Sequence[Kline]
    open_time: NDArray[np.int64]
    close_time: NDArray[np.int64]
    open_units: NDArray[np.int64]
    close_units: NDArray[np.int64]
    scale: int
    close: NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.klines)

    @property
    def interval_ms(self) -> int:
        return interval_ms(self.interval)

    def price(self, units: int) -> Decimal:
        """The exact Decimal price of an integer column value."""
        return EXACT.scaleb(Decimal(units), -self.scale)

    @classmethod
    def from_klines(cls, klines: Sequence[Kline]) -> BarSeries:
        """Check the bars and derive the columns; ``ValueError`` names the first problem."""
        if not klines:
            raise ValueError("no bars")
        first = klines[0]
        _check_bars(klines, first.symbol, first.interval)
        opens = [k.open for k in klines]
        closes = [k.close for k in klines]
        scale = max(decimal_places(p) for p in (*opens, *closes))
        if scale > MAX_SCALE:
            raise ValueError(f"prices with more than {MAX_SCALE} decimals are not supported")
        return cls(
            symbol=first.symbol,
            interval=first.interval,
            klines=klines,
            open_time=np.array([k.open_time for k in klines], dtype=np.int64),
            close_time=np.array([k.close_time for k in klines], dtype=np.int64),
            open_units=to_units(opens, scale),
            close_units=to_units(closes, scale),
            scale=scale,
            close=np.array([float(c) for c in closes], dtype=np.float64),
        )


def decimal_places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def to_units(values: Sequence[Decimal], scale: int) -> NDArray[np.int64]:
    """``values * 10**scale`` as int64, exactly; ``ValueError`` if one does not fit."""
    units = [int(EXACT.scaleb(v, scale)) for v in values]
    if units and max(abs(u) for u in units) >= 2**63:
        raise ValueError("prices too large for 64-bit integer columns")
    return np.array(units, dtype=np.int64)


def interval_of(step_ms: int) -> str:
    """The interval whose length is ``step_ms``; ``ValueError`` when none is."""
    for name in SUPPORTED_INTERVALS:
        if interval_ms(name) == step_ms:
            return name
    raise ValueError(f"bars {step_ms} ms apart match no supported interval ({', '.join(SUPPORTED_INTERVALS)})")


def typical_step(open_times: Sequence[int]) -> int:
    """The most common distance between consecutive open times (gaps do not change it)."""
    steps = np.diff(np.asarray(open_times, dtype=np.int64))
    values, counts = np.unique(steps, return_counts=True)
    return int(values[int(np.argmax(counts))])


def _check_bars(klines: Sequence[Kline], symbol: str, interval: str) -> None:
    step = interval_ms(interval)
    previous: int | None = None
    for i, k in enumerate(klines):
        if k.symbol != symbol or k.interval != interval:
            raise ValueError(f"bar {i} is {k.symbol} {k.interval}, expected {symbol} {interval}")
        if not k.closed:
            raise ValueError(f"bar {i} (open time {k.open_time}) is not closed")
        if k.open_time % step:
            raise ValueError(f"bar {i} open time {k.open_time} is not aligned to {interval}")
        if previous is not None and k.open_time <= previous:
            raise ValueError(f"bar {i} open time {k.open_time} is not after the previous bar's {previous}")
        previous = k.open_time
