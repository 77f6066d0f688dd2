"""SMA crossover: long when the fast average crosses above the slow one, out when it crosses below."""

from __future__ import annotations

import math
from decimal import Decimal, getcontext

from algo_common.domain.models import Kline, Side
from processor.decimals import EXACT, VALUE, exact_context
from processor.strategies.base import Decision

_ZERO = Decimal(0)
_EXACT_DIGITS = EXACT.prec


class SmaCross:
    """Crossover of SMA(close, fast) over SMA(close, slow), decided at each bar close.

    Rule (strict, with ties): with f/s the fast/slow SMA of the previous bar and F/S of this one,
    - BUY  when f <= s and F > S (from at-or-below to strictly above),
    - SELL when f >= s and F < S (from at-or-above to strictly below).
    Ties: a tie on the current bar (F == S) never decides; a tie on the previous bar counts for
    both sides, so the first bar after a tie that is strictly above buys and strictly below sells
    (touching from below and falling back is a SELL). No decision until both SMAs exist on the
    previous AND the current bar (bar index >= slow).

    Exact and O(1) per bar: one exact running total of all closes, and a ring of its last
    ``slow + 1`` values, give both window sums as differences (``total - total slow bars ago``);
    the means are compared as ``sum_fast * (slow / g)`` against ``sum_slow * (fast / g)``,
    ``g = gcd(fast, slow)``, so a tie is a real tie and no division is paid per bar (the means,
    28 digits, are divided out only for a decision's values). This is the hot path of the event-driven backtest
    (bench/bench_backtest.py, docs/performance.md), hence written inline: the crossover test is
    :class:`~processor.strategies.cross.CrossDetector`'s, and the arithmetic uses operators, exact
    under a context of at least 60 digits, which ``on_bar`` enters itself when its caller has not.
    """

    name = "sma_cross"
    version = "1"

    def __init__(self, fast_period: int, slow_period: int) -> None:
        if not 1 <= fast_period < slow_period:
            raise ValueError(f"need 1 <= fast < slow, got fast={fast_period} slow={slow_period}")
        self.fast_period = fast_period
        self.slow_period = slow_period
        common = math.gcd(fast_period, slow_period)
        self._fast_weight = Decimal(slow_period // common)
        self._slow_weight = None if fast_period == common else Decimal(fast_period // common)  # None: 1
        self._totals = [_ZERO] * (slow_period + 1)  # running totals of the last slow + 1 bars (0 before any)
        self._next = 0
        self._seen = 0
        self._total = _ZERO
        self._above: bool | None = None  # previous bar: fast > slow (None: no previous bar yet)
        self._below = False  # previous bar: fast < slow

    @property
    def warmup_bars(self) -> int:
        return self.slow_period + 1

    def params(self) -> dict[str, str]:
        return {"fast": str(self.fast_period), "slow": str(self.slow_period)}

    def on_bar(self, bar: Kline) -> Decision | None:
        if getcontext().prec < _EXACT_DIGITS:
            with exact_context():
                return self.on_bar(bar)
        totals, i = self._totals, self._next
        self._total = total = self._total + bar.close
        totals[i] = total
        self._next = i + 1 if i < self.slow_period else 0
        if self._seen < self.slow_period:
            self._seen += 1
            if self._seen < self.slow_period:
                return None
        fast_sum = total - totals[i - self.fast_period]  # negative indexes wrap around the ring
        slow_sum = total - totals[i - self.slow_period]
        weight = self._slow_weight
        fast = fast_sum * self._fast_weight
        slow = slow_sum if weight is None else slow_sum * weight
        was_above = self._above
        if fast > slow:
            if was_above:
                return None
            self._above, self._below = True, False
            return None if was_above is None else self._decide(Side.BUY, fast_sum, slow_sum)
        was_below, below = self._below, fast < slow
        self._above, self._below = False, below
        if below and was_above is not None and not was_below:
            return self._decide(Side.SELL, fast_sum, slow_sum)
        return None

    def _decide(self, side: Side, fast_sum: Decimal, slow_sum: Decimal) -> Decision:
        fast = VALUE.divide(fast_sum, Decimal(self.fast_period))
        slow = VALUE.divide(slow_sum, Decimal(self.slow_period))
        return Decision(side=side, indicators={"fast": fast, "slow": slow})
