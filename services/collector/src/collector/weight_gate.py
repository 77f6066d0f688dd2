"""REST request weight, spent the way Binance wants: within budget, slower after a 429, not at all when banned.

Binance counts request weight per IP in one-minute windows and tells the caller how much is used in
every response (``X-MBX-USED-WEIGHT-1M``). A 429 means "slow down, or be banned", a 418 means
"banned until ``Retry-After``". The gate sits before every REST call of the collector (depth
snapshots and backfill): it waits for the next minute when the next request would cross the
budget, and for ``Retry-After`` seconds after a 429 or 418, for every caller at once.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable

from algo_common.logging import get_logger

log = get_logger(__name__)

WEIGHT_HEADER = "X-MBX-USED-WEIGHT-1M"
WINDOW_S = 60.0

Sleep = Callable[[float], Awaitable[None]]


class WeightGate:
    """Shared by all REST calls of one process."""

    def __init__(
        self,
        budget_per_minute: int,
        *,
        wall_time: Callable[[], float] = time.time,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.budget = budget_per_minute
        self._wall_time = wall_time
        self._sleep = sleep
        self._window = -1  # index of the minute ``_used`` belongs to
        self._used = 0
        self._blocked_until = 0.0  # wall-clock seconds
        self.banned = False
        self.waited_s = 0.0

    @property
    def used(self) -> int:
        """Weight used in the current minute, as the venue last reported it (plus what we spent since)."""
        return self._used if self._window == self._minute(self._wall_time()) else 0

    async def acquire(self, weight: int) -> None:
        """Wait until ``weight`` can be spent without crossing the budget or a venue-imposed pause."""
        while True:
            now = self._wall_time()
            if now < self._blocked_until:
                await self._wait(self._blocked_until - now, "rate limited" if not self.banned else "banned (418)")
                continue
            self.banned = False
            minute = self._minute(now)
            if self._window != minute:
                self._window, self._used = minute, 0
            if self._used + weight > self.budget and self._used > 0:
                await self._wait((minute + 1) * WINDOW_S - now, "weight budget spent")
                continue
            self._used += weight
            return

    def observe(self, headers: dict[str, str]) -> None:
        """Take the used weight the venue reports (it counts every client behind our IP)."""
        raw = headers.get(WEIGHT_HEADER) or headers.get(WEIGHT_HEADER.lower())
        if raw is None or not raw.isdigit():
            return
        minute = self._minute(self._wall_time())
        if minute == self._window:
            self._used = max(self._used, int(raw))
        else:
            self._window, self._used = minute, int(raw)

    def block(self, retry_after_s: float, banned: bool) -> None:
        """Stop every request for ``retry_after_s`` (a 429, or a 418 ban)."""
        until = self._wall_time() + retry_after_s
        self._blocked_until = max(self._blocked_until, until)
        self.banned = self.banned or banned
        if banned:
            log.error("REST IP BANNED by the venue (418): no REST request until it ends", retry_after_s=retry_after_s)
        else:
            log.warning("REST rate limited (429): pausing REST requests", retry_after_s=retry_after_s)

    async def _wait(self, seconds: float, why: str) -> None:
        seconds = max(seconds, 0.001)
        log.info("REST gate waiting", seconds=round(seconds, 3), why=why)
        self.waited_s += seconds
        await self._sleep(seconds)

    @staticmethod
    def _minute(wall_s: float) -> int:
        return math.floor(wall_s / WINDOW_S)
