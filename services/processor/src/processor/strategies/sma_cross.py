"""SMA crossover: long when the fast average crosses above the slow one, out when it crosses below."""

from __future__ import annotations

from decimal import Decimal

from algo_common.domain.models import Kline, Side
from processor.indicators import SMA
from processor.strategies.base import Decision


class SmaCross:
    """Crossover of SMA(close, fast) over SMA(close, slow), decided at each bar close.

    Rule (strict, with ties): with f/s the fast/slow SMA of the previous bar and F/S of this one,
    - BUY  when f <= s and F > S (from at-or-below to strictly above),
    - SELL when f >= s and F < S (from at-or-above to strictly below).
    Ties: a tie on the current bar (F == S) never decides; a tie on the previous bar counts for
    both sides, so the first bar after a tie that is strictly above buys and strictly below sells
    (touching from below and falling back is a SELL). Exact Decimals make ties real, not float noise.
    No decision until both SMAs exist on the previous AND the current bar (bar index >= slow).
    """

    name = "sma_cross"
    version = "1"

    def __init__(self, fast_period: int, slow_period: int) -> None:
        if not 1 <= fast_period < slow_period:
            raise ValueError(f"need 1 <= fast < slow, got fast={fast_period} slow={slow_period}")
        self.fast_period = fast_period
        self.slow_period = slow_period
        self._fast = SMA(fast_period)
        self._slow = SMA(slow_period)
        self._previous: tuple[Decimal, Decimal] | None = None

    @property
    def warmup_bars(self) -> int:
        return self.slow_period + 1

    def params(self) -> dict[str, str]:
        return {"fast": str(self.fast_period), "slow": str(self.slow_period)}

    def on_bar(self, bar: Kline) -> Decision | None:
        fast = self._fast.update(bar.close)
        slow = self._slow.update(bar.close)
        if fast is None or slow is None:
            return None
        previous, self._previous = self._previous, (fast, slow)
        if previous is None:
            return None
        side = _cross(previous[0], previous[1], fast, slow)
        if side is None:
            return None
        return Decision(side=side, indicators={"fast": fast, "slow": slow})


def _cross(prev_fast: Decimal, prev_slow: Decimal, fast: Decimal, slow: Decimal) -> Side | None:
    if prev_fast <= prev_slow and fast > slow:
        return Side.BUY
    if prev_fast >= prev_slow and fast < slow:
        return Side.SELL
    return None
