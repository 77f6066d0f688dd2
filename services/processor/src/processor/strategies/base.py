"""The Strategy port: closed bars in, decisions out; pure, so live, warm-up and backtest share it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol, runtime_checkable

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


@runtime_checkable
class Resumable(Protocol):
    """A strategy whose state can be saved and loaded exactly (strings: Decimals keep every digit).

    Needed where a window of history cannot rebuild the state exactly: an EMA remembers every
    value it was fed, so a restart resumes from the state saved with the checkpoint instead.
    """

    def save_state(self) -> dict[str, str]: ...

    def load_state(self, state: Mapping[str, str]) -> None: ...
