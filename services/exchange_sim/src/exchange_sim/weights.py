"""Request-weight accounting per IP in fixed one-minute windows, as Binance's ``REQUEST_WEIGHT``.

Windows follow the wall clock (``time.time``), not the simulated one: rate limits protect real
servers from real request rates. The clock is injectable so tests never race a minute boundary.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

WINDOW_S = 60


def depth_weight(limit: int) -> int:
    """``GET /api/v3/depth`` weight by (clamped) limit: 1-100 -> 5, -500 -> 25, -1000 -> 50, else 250."""
    if limit <= 100:
        return 5
    if limit <= 500:
        return 25
    if limit <= 1000:
        return 50
    return 250


@dataclass(frozen=True, slots=True)
class WeightCharge:
    """The outcome of charging a request: weight used in the window and whether it is over the limit."""

    used: int
    over_limit: bool
    retry_after_s: int


class WeightCounter:
    """Used weight per IP for the current minute."""

    def __init__(self, limit: int, wall_time: Callable[[], float]) -> None:
        self.limit = limit
        self._wall_time = wall_time
        self._window: dict[str, tuple[int, int]] = {}  # ip -> (window index, used weight)

    def charge(self, ip: str, weight: int) -> WeightCharge:
        """Add ``weight`` for ``ip`` (rejected requests count too, as on Binance)."""
        now = self._wall_time()
        window = math.floor(now / WINDOW_S)
        start, used = self._window.get(ip, (window, 0))
        used = (used if start == window else 0) + weight
        self._window[ip] = (window, used)
        retry_after = max(1, math.ceil((window + 1) * WINDOW_S - now))
        return WeightCharge(used=used, over_limit=used > self.limit, retry_after_s=retry_after)
