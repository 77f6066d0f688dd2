"""Request-weight and order-count limits: read from response headers, obeyed before sending.

Binance reports the IP's used weight (``X-MBX-USED-WEIGHT-1M``) and the account's order counts
(``X-MBX-ORDER-COUNT-10S`` / ``-1D``) on responses. A 429 asks us to wait ``Retry-After`` seconds
and a 418 is a ban that only grows if we keep sending: after either, the gate lets nothing out
until the time has passed. A short 429 wait is slept through; a ban (or a long wait) raises
:class:`RateLimited` so the trader turns unready and keeps its signals pending.

The limits themselves (``exchangeInfo.rateLimits``: REQUEST_WEIGHT per minute, ORDERS per 10 s and
per day) are respected before Binance has to say so: when the last reported usage of a window is
within ``HEADROOM`` of its limit, requests (orders, for ORDERS) wait for the window to roll over.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Iterable, Mapping

from algo_common.binance.rest import retry_after_s
from algo_common.clock import now_ms
from algo_common.errors import RateLimited
from trader.venues.binance.metrics import BinanceMetrics
from trader.venues.binance.schemas import BinanceRateLimit

WEIGHT_PREFIX = "x-mbx-used-weight-"
ORDER_COUNT_PREFIX = "x-mbx-order-count-"
HEADROOM = 0.95
"""Share of a limit used before requests wait for the window to roll over."""
_UNIT_MS = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
_INTERVAL = re.compile(r"^([0-9]{1,4})([smhd])$")


def window_ms(interval: str) -> int | None:
    """``10s`` -> 10000, ``1m`` -> 60000; None for what Binance has not defined."""
    match = _INTERVAL.match(interval)
    return int(match.group(1)) * _UNIT_MS[match.group(2)] if match else None


def interval_key(limit: BinanceRateLimit) -> str:
    """``{interval: MINUTE, intervalNum: 1}`` -> ``1m``, the suffix of the usage headers."""
    return f"{limit.intervalNum}{limit.interval[:1].lower()}"


class RateGate:
    """Holds requests back while Binance told us to stop."""

    def __init__(
        self,
        metrics: BinanceMetrics,
        max_wait_s: float,
        monotonic: Callable[[], float] = time.monotonic,
        wall_ms: Callable[[], int] = now_ms,
    ) -> None:
        self._metrics = metrics
        self._max_wait_s = max_wait_s
        self._monotonic = monotonic
        self._wall_ms = wall_ms
        self._closed_until = 0.0
        self._banned = False
        self.used_weight: dict[str, int] = {}
        self.order_counts: dict[str, int] = {}
        self.weight_limits: dict[str, int] = {}
        self.order_limits: dict[str, int] = {}
        self._seen_ms: dict[str, int] = {}

    def set_limits(self, limits: Iterable[BinanceRateLimit]) -> None:
        """The account's and IP's limits, from ``exchangeInfo.rateLimits``."""
        for limit in limits:
            if limit.rateLimitType == "REQUEST_WEIGHT":
                self.weight_limits[interval_key(limit)] = limit.limit
            elif limit.rateLimitType == "ORDERS":
                self.order_limits[interval_key(limit)] = limit.limit

    @property
    def blocked_for_s(self) -> float:
        return max(0.0, self._closed_until - self._monotonic())

    async def wait(self, placing_order: bool = False) -> None:
        """Return when a request may go out; raise :class:`RateLimited` if that is too far off."""
        remaining = self.blocked_for_s
        if remaining > 0:
            if self._banned or remaining > self._max_wait_s:
                raise RateLimited(f"Binance asked us to stop for {remaining:.1f} s more", remaining, self._banned)
            await asyncio.sleep(remaining)
        self._banned = False
        pause = self.quota_pause_s(placing_order)
        if pause > 0:
            if pause > self._max_wait_s:
                raise RateLimited(f"a Binance request limit is nearly used up; {pause:.1f} s to its reset", pause)
            await asyncio.sleep(pause)

    def quota_pause_s(self, placing_order: bool) -> float:
        """Seconds until every window whose last reported usage is near its limit has rolled over."""
        now = self._wall_ms()
        checks = [("weight", self.used_weight, self.weight_limits)]
        if placing_order:
            checks.append(("orders", self.order_counts, self.order_limits))
        pause_ms = 0
        for kind, used, limits in checks:
            for interval, limit in limits.items():
                window = window_ms(interval)
                seen = self._seen_ms.get(f"{kind}:{interval}")
                if window is None or seen is None or seen // window != now // window:
                    continue  # no usage reported in the current window
                if used.get(interval, 0) >= limit * HEADROOM:
                    pause_ms = max(pause_ms, (now // window + 1) * window - now)
        return pause_ms / 1000

    def observe(self, status: int, headers: Mapping[str, str]) -> None:
        """Record usage headers; close the gate on 429/418."""
        for name, value in headers.items():
            lower = name.lower()
            if lower.startswith(WEIGHT_PREFIX) and value.isdigit():
                interval = lower.removeprefix(WEIGHT_PREFIX)
                self.used_weight[interval] = int(value)
                self._seen_ms[f"weight:{interval}"] = self._wall_ms()
                self._metrics.used_weight.set(int(value), {"interval": interval})
            elif lower.startswith(ORDER_COUNT_PREFIX) and value.isdigit():
                interval = lower.removeprefix(ORDER_COUNT_PREFIX)
                self.order_counts[interval] = int(value)
                self._seen_ms[f"orders:{interval}"] = self._wall_ms()
                self._metrics.order_count.set(int(value), {"interval": interval})
        if status in (418, 429):
            retry_after = retry_after_s(headers)
            banned = status == 418
            self._closed_until = max(self._closed_until, self._monotonic() + retry_after)
            self._banned = self._banned or banned
            self._metrics.rate_limited.add(1, {"status": str(status)})
            raise RateLimited(f"HTTP {status} from Binance; retry after {retry_after} s", retry_after, banned)
