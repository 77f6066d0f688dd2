"""Closed 1m klines from Binance's REST API (``GET /api/v3/klines``), newest pages first.

HTTP failures are translated into the error taxonomy: 429/418 -> :class:`RateLimited` carrying
``Retry-After``, network errors and 5xx -> :class:`TransientError`, other 4xx -> :class:`FatalError`.
No clock is consulted: the newest row of an open-ended page is the forming bar and is dropped,
and every other row opens before a later one, so it is closed.
"""

from __future__ import annotations

import httpx
import msgspec

from algo_common.binance import parse
from algo_common.binance.urls import KLINES_PATH
from algo_common.clock import now_ms
from algo_common.domain.models import Kline
from algo_common.errors import BadMessage, FatalError, RateLimited, TransientError

PAGE_LIMIT = 1000
"""Binance's maximum rows per klines request (weight 2 whatever the limit)."""
DEFAULT_RETRY_AFTER_S = 60.0
"""Wait after a 429/418 without a ``Retry-After`` header."""
SOURCE_INTERVAL = "1m"


class KlineHistory:
    """Pages of closed 1m klines of one REST base URL (Binance, or the simulator in tests)."""

    def __init__(self, http: httpx.AsyncClient, base_url: str) -> None:
        self._http = http
        self._url = base_url.rstrip("/") + KLINES_PATH

    async def closed_before(self, symbol: str, end_open_time: int | None, limit: int = PAGE_LIMIT) -> list[Kline]:
        """Up to ``limit`` closed klines opening at or before ``end_open_time`` (None: now), oldest first.

        ``end_open_time`` must be before a kline known to be closed; with None the forming bar
        (the newest row) is asked for too and dropped.
        """
        open_ended = end_open_time is None
        params: dict[str, str | int] = {"symbol": symbol, "interval": SOURCE_INTERVAL, "limit": limit + open_ended}
        if end_open_time is not None:
            params["endTime"] = end_open_time
        body, ts_recv = await self._get(params, f"klines {symbol}")
        try:
            rows = parse.parse_kline_rows(symbol, SOURCE_INTERVAL, body, ts_recv)
        except BadMessage as e:
            raise TransientError(f"klines {symbol}: bad body: {e}") from e
        if open_ended:
            rows = rows[:-1]
        return [msgspec.structs.replace(k, closed=True) for k in rows]

    async def _get(self, params: dict[str, str | int], what: str) -> tuple[bytes, int]:
        try:
            response = await self._http.get(self._url, params=params)
        except httpx.HTTPError as e:
            raise TransientError(f"{what}: {type(e).__name__}: {e}") from e
        status = response.status_code
        if status in (418, 429):
            raise RateLimited(f"{what}: HTTP {status}", retry_after(response), banned=status == 418)
        if status >= 500:
            raise TransientError(f"{what}: HTTP {status}")
        if status != 200:
            raise FatalError(f"{what}: HTTP {status}: {response.text[:200]}")
        return response.content, now_ms()


def retry_after(response: httpx.Response) -> float:
    """Seconds the venue asked us to wait (``Retry-After``), or :data:`DEFAULT_RETRY_AFTER_S`."""
    try:
        return max(float(response.headers.get("Retry-After", "")), 0.0)
    except ValueError:
        return DEFAULT_RETRY_AFTER_S
