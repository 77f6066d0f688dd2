"""Closed 1m klines from Binance's REST API (``GET /api/v3/klines``), newest pages first.

HTTP failures are translated into the error taxonomy by :mod:`algo_common.binance.rest`.
No clock is consulted: the newest row of an open-ended page is the forming bar and is dropped,
and every other row opens before a later one, so it is closed.
"""

from __future__ import annotations

import httpx
import msgspec

from algo_common.binance import parse
from algo_common.binance import rest as binance_rest
from algo_common.binance.urls import KLINES_PATH
from algo_common.domain.models import Kline
from algo_common.errors import BadMessage, TransientError

PAGE_LIMIT = 1000
"""Binance's maximum rows per klines request (weight 2 whatever the limit)."""
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
        response, ts_recv = await binance_rest.get(self._http, self._url, params, what)
        binance_rest.raise_for_status(response, what)
        return response.content, ts_recv
