"""The strict crossover rule with its tie convention, shared by every crossover strategy. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from algo_common.domain.models import Side


class CrossDetector:
    """Fed one (fast, slow) pair per bar; says when fast crosses slow, strictly.

    BUY when the previous pair had fast <= slow and this one has fast > slow; SELL when the previous
    had fast >= slow and this one has fast < slow. A tie on the current pair never decides; a tie
    on the previous pair satisfies both sides. The first pair only sets the previous state.
    """

    __slots__ = ("_above", "_below")

    def __init__(self) -> None:
        self._above: bool | None = None  # None: no previous pair yet
        self._below = False

    def update(self, fast: Decimal, slow: Decimal) -> Side | None:
        was_above, was_below = self._above, self._below
        if fast > slow:
            self._above, self._below = True, False
            return Side.BUY if was_above is False else None
        below = fast < slow
        self._above, self._below = False, below
        return Side.SELL if below and was_above is not None and not was_below else None

    def save_state(self) -> dict[str, str]:
        above = "" if self._above is None else str(int(self._above))
        return {"above": above, "below": str(int(self._below))}

    def load_state(self, state: Mapping[str, str]) -> None:
        self._above = None if state["above"] == "" else state["above"] == "1"
        self._below = state["below"] == "1"
