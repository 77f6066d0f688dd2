"""The latest best bid/ask of a symbol, read from the collector's ``market.{SYMBOL}`` stream.

Read on demand, per order (one XREVRANGE of the newest entries), instead of following every
market event in every trader replica: an order sees the book as it is when it executes, and an
idle trader costs nothing.
"""

from __future__ import annotations

import msgspec
import redis.asyncio as aioredis

from algo_common.domain.models import BookTop
from algo_common.streams import EVENT_FIELD, decode_market_event, market_stream

_BOOK_TOP_TAG = b'"book_top"'


class BookTops:
    """Finds the newest :class:`BookTop` among the last ``scan`` entries of a market stream."""

    def __init__(self, redis: aioredis.Redis, scan: int) -> None:
        self._redis = redis
        self._scan = scan

    async def latest(self, symbol: str) -> BookTop | None:
        """None when no book top is among the newest entries (the collector has not published one)."""
        entries: list[tuple[bytes, dict[bytes, bytes]]]
        entries = await self._redis.xrevrange(market_stream(symbol), count=self._scan)  # type: ignore[assignment]
        for _entry_id, fields in entries:
            raw = fields.get(EVENT_FIELD)
            if raw is None or _BOOK_TOP_TAG not in raw:
                continue  # trades and klines: skipped without decoding
            try:
                event = decode_market_event(raw)
            except msgspec.DecodeError:
                continue
            if isinstance(event, BookTop):
                return event
        return None
