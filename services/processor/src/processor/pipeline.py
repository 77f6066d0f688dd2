"""One symbol's path from closed klines to decisions: bars, then the strategy. Pure.

Warm-up, catch-up and the live stream feed the same object, so a restarted processor reaches
exactly the state the crashed one had.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from algo_common.domain.models import Kline
from processor.bars import BarBuilder
from processor.strategies.base import Decision, Resumable, Strategy


@dataclass(frozen=True, slots=True)
class BarOutcome:
    """A closed bar, what the strategy decided at its close (None: nothing) and, when captured,
    the strategy's state right after it (what a checkpoint at this bar resumes from)."""

    bar: Kline
    decision: Decision | None
    state: dict[str, str] | None = None


class SymbolPipeline:
    """Bars of ``interval`` from one symbol's 1m klines, each fed to ``strategy``.

    With ``capture_state`` and a :class:`Resumable` strategy, every outcome carries the strategy's
    state after its bar, so the checkpoint can store it and a restart resume from it exactly.
    """

    def __init__(self, symbol: str, interval: str, strategy: Strategy, *, capture_state: bool = False) -> None:
        self.symbol = symbol.upper()
        self.strategy = strategy
        self.bars = BarBuilder(self.symbol, interval)
        self._resumable = strategy if capture_state and isinstance(strategy, Resumable) else None

    @property
    def interval(self) -> str:
        return self.bars.interval

    def accepts(self, kline: Kline) -> bool:
        """True when ``kline`` is new input (closed, this symbol, 1m, later than anything seen)."""
        return self.bars.accepts(kline)

    def on_kline(self, kline: Kline) -> list[BarOutcome]:
        resumable = self._resumable
        if resumable is None:
            return [BarOutcome(bar, self.strategy.on_bar(bar)) for bar in self.bars.on_kline(kline)]
        return [BarOutcome(bar, self.strategy.on_bar(bar), resumable.save_state()) for bar in self.bars.on_kline(kline)]

    def resume(self, bar_close_time: int, state: Mapping[str, str]) -> bool:
        """Continue after the bar closing at ``bar_close_time`` from a saved state; False if not resumable."""
        if not isinstance(self.strategy, Resumable):
            return False
        self.strategy.load_state(state)
        self.bars.resume_after(bar_close_time)
        return True
