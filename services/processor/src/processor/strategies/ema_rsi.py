"""EMA crossover with an RSI filter: buy a cross up unless the market is overbought, sell a cross down."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from algo_common.domain.models import Kline, Side
from processor.indicators import EMA, RSI
from processor.strategies.base import Decision
from processor.strategies.cross import CrossDetector

WARMUP_FACTOR = 5
"""History fed on a first start, in multiples of the longest period.

An EMA (and Wilder's RSI) remembers its whole history: values after a warm-up of ``k`` periods
still carry about ``exp(-2k)`` of the seed's offset (``exp(-k)`` for the RSI), so a window of
history cannot rebuild the exact state. The strategy is therefore :class:`Resumable`: the processor
stores its state with every checkpoint and a restart (or another replica taking the symbol over)
continues from it, giving exactly the signals of a processor that never stopped.
"""


class EmaRsi:
    """EMA(close, fast) crossing EMA(close, slow), with RSI(close, rsi_period) as a BUY filter.

    - BUY  on a strict cross up (same rule and ties as ``SmaCross``) when RSI < ``overbought``;
      a cross up while RSI >= ``overbought`` is skipped (the next cross up may buy).
    - SELL on a strict cross down, whatever the RSI.
    No decision until both EMAs and the RSI exist on the current bar and the EMAs on the previous one.
    """

    name = "ema_rsi"
    version = "1"

    def __init__(self, fast_period: int, slow_period: int, rsi_period: int, overbought: Decimal) -> None:
        if not 1 <= fast_period < slow_period:
            raise ValueError(f"need 1 <= fast < slow, got fast={fast_period} slow={slow_period}")
        if rsi_period < 2:
            raise ValueError(f"need rsi_period >= 2, got {rsi_period}")
        if not 0 < overbought <= 100:
            raise ValueError(f"need 0 < overbought <= 100, got {overbought}")
        self.fast_period = fast_period
        self.slow_period = slow_period
        self.rsi_period = rsi_period
        self.overbought = overbought
        self._fast = EMA(fast_period)
        self._slow = EMA(slow_period)
        self._rsi = RSI(rsi_period)
        self._cross = CrossDetector()

    @property
    def warmup_bars(self) -> int:
        return WARMUP_FACTOR * max(self.slow_period, self.rsi_period + 1) + 1

    def params(self) -> dict[str, str]:
        return {
            "fast": str(self.fast_period),
            "slow": str(self.slow_period),
            "rsi": str(self.rsi_period),
            "overbought": str(self.overbought),
        }

    def on_bar(self, bar: Kline) -> Decision | None:
        fast = self._fast.update(bar.close)
        slow = self._slow.update(bar.close)
        rsi = self._rsi.update(bar.close)
        if fast is None or slow is None:
            return None
        side = self._cross.update(fast, slow)
        if side is None or rsi is None or (side is Side.BUY and rsi >= self.overbought):
            return None
        return Decision(side=side, indicators={"fast": fast, "slow": slow, "rsi": rsi})

    def save_state(self) -> dict[str, str]:
        """The indicators' and the crossover's state, keys prefixed by part."""
        parts = {"fast": self._fast.save_state(), "slow": self._slow.save_state(), "rsi": self._rsi.save_state()}
        parts["cross"] = self._cross.save_state()
        return {f"{part}_{key}": value for part, state in parts.items() for key, value in state.items()}

    def load_state(self, state: Mapping[str, str]) -> None:
        def part(name: str) -> dict[str, str]:
            prefix = f"{name}_"
            return {key.removeprefix(prefix): value for key, value in state.items() if key.startswith(prefix)}

        self._fast.load_state(part("fast"))
        self._slow.load_state(part("slow"))
        self._rsi.load_state(part("rsi"))
        self._cross.load_state(part("cross"))
