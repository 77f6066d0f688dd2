"""Incremental indicators over exact Decimals: O(1) work per value, no floats.

Every indicator follows :class:`Indicator`, so a strategy can hold SMAs, EMAs or RSIs without
caring which. Values are pushed one at a time, oldest first.

Rounding (documented, and what the exactness tests compare after): sums and differences are
exact (:data:`~processor.decimals.EXACT`); every quotient is rounded once to 28 significant digits,
half-even (:data:`~processor.decimals.VALUE`). The SMA therefore is the exact mean rounded once;
EMA and RSI round once per update, and their recurrences shrink old rounding errors, so values
stay within a few units of the 28th digit of the exact real-number result however long they run.
The seeding follows TA-Lib (``TA_COMPATIBILITY_DEFAULT``, unstable period 0), so the first value
appears at the same bar as TA-Lib's first non-NaN output.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Protocol

from processor.decimals import EXACT, VALUE

_ZERO = Decimal(0)
_HUNDRED = Decimal(100)
_add = EXACT.add
_subtract = EXACT.subtract
_multiply = EXACT.multiply
_divide = VALUE.divide


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


def _check_period(name: str, period: int, minimum: int = 1) -> None:
    if period < minimum:
        raise ValueError(f"{name} period must be >= {minimum}, got {period}")


class SMA:
    """Simple moving average of the last ``period`` values.

    A running sum over a ring buffer: each update adds the new value and subtracts the one that
    leaves the window, both exactly, so the sum never drifts however long it runs.
    """

    def __init__(self, period: int) -> None:
        _check_period("SMA", period)
        self.period = period
        self._divisor = Decimal(period)
        self._window: list[Decimal] = [_ZERO] * period
        self._next = 0
        self._count = 0
        self._sum = _ZERO
        self._value: Decimal | None = None

    @property
    def ready(self) -> bool:
        return self._count >= self.period

    @property
    def value(self) -> Decimal | None:
        return self._value

    def update(self, value: Decimal) -> Decimal | None:
        i = self._next
        leaving = self._window[i]
        self._window[i] = value
        self._next = i + 1 if i + 1 < self.period else 0
        self._sum = _add(self._sum, value)
        if self._count < self.period:
            self._count += 1
        else:
            self._sum = _subtract(self._sum, leaving)
        if self._count >= self.period:
            self._value = _divide(self._sum, self._divisor)
        return self._value


class EMA:
    """Exponential moving average, ``alpha = 2 / (period + 1)``, seeded like TA-Lib's ``EMA``.

    The first value (after ``period`` inputs) is the SMA of those inputs; then
    ``ema = (2 * x + (period - 1) * ema_prev) / (period + 1)``, which is TA-Lib's
    ``ema_prev + alpha * (x - ema_prev)`` written with one division, hence one rounding per step.
    """

    def __init__(self, period: int) -> None:
        _check_period("EMA", period)
        self.period = period
        self._width = Decimal(period + 1)
        self._next_weight = Decimal(period - 1)
        self._count = 0
        self._sum = _ZERO
        self._value: Decimal | None = None

    @property
    def ready(self) -> bool:
        return self._value is not None

    @property
    def value(self) -> Decimal | None:
        return self._value

    def update(self, value: Decimal) -> Decimal | None:
        previous = self._value
        if previous is None:
            self._count += 1
            self._sum = _add(self._sum, value)
            if self._count == self.period:
                self._value = _divide(self._sum, Decimal(self.period))
            return self._value
        numerator = _add(_add(value, value), _multiply(previous, self._next_weight))
        self._value = _divide(numerator, self._width)
        return self._value

    def save_state(self) -> dict[str, str]:
        """Everything :meth:`update` depends on, as exact strings."""
        return {"count": str(self._count), "sum": str(self._sum), "value": _text(self._value)}

    def load_state(self, state: Mapping[str, str]) -> None:
        self._count = int(state["count"])
        self._sum = Decimal(state["sum"])
        self._value = _decimal(state["value"])


class RSI:
    """Relative strength index with Wilder's smoothing, seeded like TA-Lib's ``RSI``.

    The first value comes after ``period + 1`` inputs (``period`` changes): the average gain and
    loss are the plain means of those changes; then each is ``(avg * (period - 1) + change) / period``.
    ``RSI = 100 * avg_gain / (avg_gain + avg_loss)``, and 0 when both averages are exactly 0 (TA-Lib
    also returns 0 there, treating ``|sum| < 1e-8`` as zero in floats).
    """

    def __init__(self, period: int) -> None:
        _check_period("RSI", period, minimum=2)
        self.period = period
        self._period_d = Decimal(period)
        self._weight = Decimal(period - 1)
        self._previous: Decimal | None = None
        self._count = 0
        self._gain = _ZERO
        self._loss = _ZERO
        self._value: Decimal | None = None

    @property
    def ready(self) -> bool:
        return self._value is not None

    @property
    def value(self) -> Decimal | None:
        return self._value

    def update(self, value: Decimal) -> Decimal | None:
        previous, self._previous = self._previous, value
        if previous is None:
            return None
        change = _subtract(value, previous)
        gain = change if change > 0 else _ZERO
        loss = _subtract(previous, value) if change < 0 else _ZERO
        if self._count < self.period:
            self._count += 1
            self._gain = _add(self._gain, gain)
            self._loss = _add(self._loss, loss)
            if self._count < self.period:
                return None
            self._gain = _divide(self._gain, self._period_d)
            self._loss = _divide(self._loss, self._period_d)
        else:
            self._gain = _divide(_add(_multiply(self._gain, self._weight), gain), self._period_d)
            self._loss = _divide(_add(_multiply(self._loss, self._weight), loss), self._period_d)
        self._value = _rsi(self._gain, self._loss)
        return self._value

    def save_state(self) -> dict[str, str]:
        """Everything :meth:`update` depends on, as exact strings."""
        return {
            "previous": _text(self._previous),
            "count": str(self._count),
            "gain": str(self._gain),
            "loss": str(self._loss),
            "value": _text(self._value),
        }

    def load_state(self, state: Mapping[str, str]) -> None:
        self._previous = _decimal(state["previous"])
        self._count = int(state["count"])
        self._gain = Decimal(state["gain"])
        self._loss = Decimal(state["loss"])
        self._value = _decimal(state["value"])


def _rsi(avg_gain: Decimal, avg_loss: Decimal) -> Decimal:
    total = _add(avg_gain, avg_loss)
    if total == 0:
        return _ZERO
    return _divide(_multiply(_HUNDRED, avg_gain), total)


def _text(value: Decimal | None) -> str:
    return "" if value is None else str(value)


def _decimal(text: str) -> Decimal | None:
    return None if text == "" else Decimal(text)
