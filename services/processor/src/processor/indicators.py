"""Incremental indicators over exact Decimals: O(1) work per value, no floats.

Every indicator follows :class:`Indicator`, so a strategy can hold SMAs today and EMAs or RSIs
tomorrow without caring which. Values are pushed one at a time, oldest first.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

from processor.decimals import EXACT, VALUE


class Indicator(Protocol):
    """An indicator fed one value at a time."""

    @property
    def ready(self) -> bool:
        """True once enough values were seen for :attr:`value` to exist."""
        ...

    @property
    def value(self) -> Decimal | None:
        """The current value, None until ready."""
        ...

    def update(self, value: Decimal) -> Decimal | None:
        """Push the next value; returns the new indicator value, None while not ready."""
        ...


class SMA:
    """Simple moving average of the last ``period`` values.

    A running sum over a ring buffer: each update adds the new value and subtracts the one that
    leaves the window, both exactly, so the result never drifts however long it runs.
    """

    def __init__(self, period: int) -> None:
        if period < 1:
            raise ValueError(f"SMA period must be >= 1, got {period}")
        self.period = period
        self._window: list[Decimal] = [Decimal(0)] * period
        self._next = 0
        self._count = 0
        self._sum = Decimal(0)
        self._value: Decimal | None = None

    @property
    def ready(self) -> bool:
        return self._count >= self.period

    @property
    def value(self) -> Decimal | None:
        return self._value

    def update(self, value: Decimal) -> Decimal | None:
        leaving = self._window[self._next]
        self._window[self._next] = value
        self._next = (self._next + 1) % self.period
        self._sum = EXACT.add(self._sum, value)
        if self._count < self.period:
            self._count += 1
        else:
            self._sum = EXACT.subtract(self._sum, leaving)
        if self.ready:
            self._value = VALUE.divide(self._sum, Decimal(self.period))
        return self._value
