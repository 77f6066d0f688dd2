"""The Strategy port: closed bars in, decisions out; pure, so live, warm-up and backtest share it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from algo_common.domain.models import Kline, Side


@dataclass(frozen=True, slots=True)
class Decision:
    """What the strategy decided at a bar close, and the indicator values that made it decide."""

    side: Side
    indicators: Mapping[str, Decimal]


class Strategy(Protocol):
    """A trading rule fed one closed bar at a time, oldest first.

    ``name`` and ``params()`` enter the signal id, so they must identify the rule completely;
    ``version`` records which revision of the code produced a signal.
    """

    @property
    def name(self) -> str: ...

    @property
    def version(self) -> str: ...

    @property
    def warmup_bars(self) -> int:
        """How many closed bars of history make the first live bar able to decide."""
        ...

    def params(self) -> dict[str, str]: ...

    def on_bar(self, bar: Kline) -> Decision | None:
        """Feed the next closed bar; returns a decision taken at its close, or None."""
        ...
