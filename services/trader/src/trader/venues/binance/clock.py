"""Binance server time offset: signed requests carry ``timestamp`` in the server's clock.

Binance accepts a request iff ``timestamp < serverTime + 1000`` and ``serverTime - timestamp <=
recvWindow``; a local clock that drifted gets ``-1021``. The offset is measured with
``GET /api/v3/time`` (midpoint of the round trip), refreshed every ``refresh_s`` and on -1021.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from algo_common.clock import now_ms


class ServerClock:
    """Local time plus the last measured offset to Binance's clock, in ms."""

    def __init__(
        self, fetch_server_ms: Callable[[], Awaitable[int]], refresh_s: float, local_ms: Callable[[], int] = now_ms
    ) -> None:
        self._fetch = fetch_server_ms
        self._refresh_ms = int(refresh_s * 1000)
        self._local = local_ms
        self.offset_ms = 0
        self._synced_at: int | None = None

    def now_ms(self) -> int:
        return self._local() + self.offset_ms

    async def sync(self) -> int:
        """Measure the offset now; returns it."""
        before = self._local()
        server = await self._fetch()
        after = self._local()
        self.offset_ms = server - (before + after) // 2
        self._synced_at = after
        return self.offset_ms

    async def ensure_fresh(self) -> None:
        """Sync when never synced or older than the refresh period."""
        if self._synced_at is None or self._local() - self._synced_at >= self._refresh_ms:
            await self.sync()
