"""Simulated exchange time.

Binance stamps every event (``E``, ``T``, kline ``t``/``T``) with its own clock. The simulator's
clock moves only when the market steps, never with the wall clock, so a one-minute kline can close
every few real milliseconds and a test never waits for real time to pass.
"""

from __future__ import annotations


class SimClock:
    """Epoch milliseconds that only move forward, and only when told to."""

    def __init__(self, start_ms: int) -> None:
        if start_ms < 0:
            raise ValueError(f"start time must be >= 0 ms, got {start_ms}")
        self._now_ms = start_ms

    def now_ms(self) -> int:
        """Current simulated time (epoch ms)."""
        return self._now_ms

    def advance_to(self, ms: int) -> int:
        """Move to ``ms``; earlier times are ignored so event times never go backwards."""
        self._now_ms = max(self._now_ms, ms)
        return self._now_ms

    def advance(self, delta_ms: int) -> int:
        """Move forward by ``delta_ms`` (>= 0)."""
        if delta_ms < 0:
            raise ValueError(f"the simulated clock cannot go backwards ({delta_ms} ms)")
        self._now_ms += delta_ms
        return self._now_ms
