"""ORDERS rate limits per account and the escalating 418 ban per IP.

Both follow the wall clock (injectable), like the request-weight windows: they protect a real
server from real request rates. An IP that keeps sending requests while a 429's ``Retry-After``
has not passed is banned (HTTP 418): ``ban_s`` the first time, doubling each time, at most 3 days.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

MAX_BAN_S = 3 * 86_400.0
ORDER_WINDOWS = (("10S", "10 SECOND", 10), ("1D", "1 DAY", 86_400))
"""(header suffix, Binance's wording, seconds) of each ORDERS window."""


@dataclass(frozen=True, slots=True)
class OrderLimitHit:
    interval: str  # "10 SECOND" | "1 DAY"
    limit: int
    retry_after_s: int


class OrderCounter:
    """Orders placed per account in fixed 10-second and 1-day windows."""

    def __init__(self, per_10s: int, per_day: int, wall_time: Callable[[], float]) -> None:
        self.limits = {"10S": per_10s, "1D": per_day}
        self._wall_time = wall_time
        self._counts: dict[tuple[str, str], tuple[int, int]] = {}  # (account, suffix) -> (window, count)

    def counts(self, account: str) -> dict[str, int]:
        """Current count per window suffix (``10S``, ``1D``), for ``X-MBX-ORDER-COUNT-*``."""
        now = self._wall_time()
        result = {}
        for suffix, _, seconds in ORDER_WINDOWS:
            window, count = self._counts.get((account, suffix), (-1, 0))
            result[suffix] = count if window == math.floor(now / seconds) else 0
        return result

    def hit(self, account: str) -> OrderLimitHit | None:
        """The first limit one more order would break, else None."""
        now, counts = self._wall_time(), self.counts(account)
        for suffix, wording, seconds in ORDER_WINDOWS:
            if counts[suffix] >= self.limits[suffix]:
                retry = max(1, math.ceil((math.floor(now / seconds) + 1) * seconds - now))
                return OrderLimitHit(wording, self.limits[suffix], retry)
        return None

    def add(self, account: str) -> dict[str, int]:
        now, counts = self._wall_time(), self.counts(account)
        for suffix, _, seconds in ORDER_WINDOWS:
            counts[suffix] += 1
            self._counts[(account, suffix)] = (math.floor(now / seconds), counts[suffix])
        return counts


@dataclass(slots=True)
class _IpState:
    limited_until: float = 0.0
    strikes: int = 0
    banned_until: float = 0.0
    bans: int = 0


class BanTracker:
    """429s sent per IP, requests that ignored them, and bans."""

    def __init__(self, ban_after: int, ban_s: float, wall_time: Callable[[], float]) -> None:
        self.ban_after = ban_after
        self.ban_s = ban_s
        self._wall_time = wall_time
        self._ips: dict[str, _IpState] = {}

    def banned_for(self, ip: str) -> int | None:
        """Seconds left of ``ip``'s ban (rounded up), or None."""
        state = self._ips.get(ip)
        now = self._wall_time()
        if state is None or now >= state.banned_until:
            return None
        return max(1, math.ceil(state.banned_until - now))

    def banned_until_ms(self, ip: str) -> int:
        return int(self._ips[ip].banned_until * 1000)

    def on_request(self, ip: str) -> None:
        """Count a request; one too many while rate limited starts (or lengthens) a ban."""
        state = self._ips.get(ip)
        now = self._wall_time()
        if state is None or now >= state.limited_until:
            return
        state.strikes += 1
        if state.strikes > self.ban_after:
            self.ban(ip, min(MAX_BAN_S, self.ban_s * 2**state.bans))

    def on_limited(self, ip: str, retry_after_s: float) -> None:
        """A 429 was sent: requests before ``retry_after_s`` passes are strikes."""
        state = self._ips.setdefault(ip, _IpState())
        now = self._wall_time()
        if now >= state.limited_until:
            state.strikes = 0
        state.limited_until = max(state.limited_until, now + retry_after_s)

    def ban(self, ip: str, seconds: float) -> None:
        state = self._ips.setdefault(ip, _IpState())
        now = self._wall_time()
        state.banned_until = now + seconds
        state.bans += 1
        state.strikes = 0
        state.limited_until = state.banned_until

    def lift(self) -> None:
        self._ips.clear()
