"""``GET /api/v3/depth`` over httpx, with Binance's HTTP failures translated into our error taxonomy."""

from __future__ import annotations

import httpx

from algo_common.binance import parse
from algo_common.binance.urls import DEPTH_PATH
from algo_common.clock import now_ms
from algo_common.domain.models import BookSnapshot
from algo_common.errors import BadMessage, FatalError, RateLimited, TransientError

DEFAULT_RETRY_AFTER_S = 60.0
"""Wait after a 429/418 that carries no ``Retry-After``."""


class DepthSnapshotClient:
    """Fetches order-book snapshots; one shared ``httpx.AsyncClient`` (connection pool) per service."""

    def __init__(self, http: httpx.AsyncClient, rest_base_url: str, limit: int) -> None:
        self._http = http
        self._url = rest_base_url.rstrip("/") + DEPTH_PATH
        self._limit = limit

    async def fetch(self, symbol: str) -> tuple[BookSnapshot, int]:
        """The snapshot and our receive time (ms).

        Raises :class:`RateLimited` (429/418), :class:`TransientError` (network, timeout, 5xx, bad
        body) or :class:`FatalError` (any other 4xx: a request we must not repeat unchanged).
        """
        try:
            response = await self._http.get(self._url, params={"symbol": symbol, "limit": self._limit})
        except httpx.HTTPError as e:
            raise TransientError(f"depth snapshot {symbol}: {type(e).__name__}: {e}") from e
        ts_recv = now_ms()
        status = response.status_code
        if status in (418, 429):
            raise RateLimited(f"depth snapshot {symbol}: HTTP {status}", _retry_after(response), banned=status == 418)
        if status >= 500:
            raise TransientError(f"depth snapshot {symbol}: HTTP {status}")
        if status != 200:
            raise FatalError(f"depth snapshot {symbol}: HTTP {status}: {response.text[:200]}")
        try:
            return parse.parse_depth_snapshot(symbol, response.content), ts_recv
        except BadMessage as e:
            raise TransientError(f"depth snapshot {symbol}: bad body: {e}") from e


def _retry_after(response: httpx.Response) -> float:
    try:
        return max(float(response.headers.get("Retry-After", "")), 0.0)
    except ValueError:
        return DEFAULT_RETRY_AFTER_S
