"""One symbol's path from closed klines to decisions: bars, then the strategy. Pure.

Warm-up, catch-up and the live stream feed the same object, so a restarted processor reaches
exactly the state the crashed one had.
"""

from __future__ import annotations

from dataclasses import dataclass

from algo_common.domain.models import Kline
from processor.bars import BarBuilder
from processor.strategies.base import Decision, Strategy


@dataclass(frozen=True, slots=True)
class BarOutcome:
    """A closed bar and what the strategy decided at its close (None: nothing)."""

    bar: Kline
    decision: Decision | None


class SymbolPipeline:
    """Bars of ``interval`` from one symbol's 1m klines, each fed to ``strategy``."""

    def __init__(self, symbol: str, interval: str, strategy: Strategy) -> None:
        self.symbol = symbol.upper()
        self.strategy = strategy
        self.bars = BarBuilder(self.symbol, interval)

    @property
    def interval(self) -> str:
        return self.bars.interval

    def accepts(self, kline: Kline) -> bool:
        """True when ``kline`` is new input (closed, this symbol, 1m, later than anything seen)."""
        return self.bars.accepts(kline)

    def on_kline(self, kline: Kline) -> list[BarOutcome]:
        return [BarOutcome(bar, self.strategy.on_bar(bar)) for bar in self.bars.on_kline(kline)]
