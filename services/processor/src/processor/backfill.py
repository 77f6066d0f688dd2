"""Complete a too-short warm-up history from the venue's REST API before warming up.

When MongoDB holds fewer closed 1m klines than the strategy's warm-up needs (a fresh deployment,
a collector that started recently), the missing older klines are fetched page by page, newest first,
ending just before the oldest stored one (or at the newest closed one when nothing is stored), and
stored under the collector's own ``_id`` (``<SYMBOL>:kline:1m:<open time>``), insert-or-ignore: a
kline both write is stored once. A 429/418 is waited out when its ``Retry-After`` is at most
``max_wait_s``; a failure that persists leaves the warm-up with the history there is (logged).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from algo_common.domain.models import Kline
from algo_common.errors import RateLimited, TransientError
from algo_common.logging import get_logger
from algo_common.retry import backoff_delay
from processor.metrics import ProcessorMetrics
from processor.store import ProcessorStore

log = get_logger(__name__)

PAGE_LIMIT = 1000


class HistorySource(Protocol):
    """Closed 1m klines opening at or before ``end_open_time`` (None: the newest closed ones), oldest first."""

    async def closed_before(self, symbol: str, end_open_time: int | None, limit: int = PAGE_LIMIT) -> list[Kline]: ...


@dataclass
class Backfill:
    source: HistorySource
    store: ProcessorStore
    metrics: ProcessorMetrics
    max_wait_s: float = 60.0
    """Longest ``Retry-After`` waited out; a longer ban gives the backfill up."""
    attempts: int = 4
    """Tries per page on transient errors (network, 5xx) before giving up."""
    on_page: Callable[[], None] = lambda: None
    """Called after every page (the service beats its liveness there)."""

    async def fill(self, symbol: str, needed: int, until_open_time: int | None) -> int:
        """Store klines older than the oldest stored one until ``needed`` lie at or before ``until_open_time``.

        Returns how many were new in MongoDB.
        """
        missing = needed - await self.store.count_klines(symbol, until_open_time)
        oldest = await self.store.oldest_open_time(symbol)
        end = None if oldest is None else oldest - 1
        stored = 0
        while missing > 0:
            wanted = min(PAGE_LIMIT, missing)
            page = await self._page(symbol, end, wanted)
            stored += await self.store.store_klines(page)
            self.on_page()
            missing -= len(page)
            if len(page) < wanted:  # the venue has no older history
                break
            end = page[0].open_time - 1
        self.metrics.backfilled_klines.add(stored, {"symbol": symbol})
        log.info("backfilled warm-up history", symbol=symbol, stored=stored, still_missing=max(missing, 0))
        return stored

    async def _page(self, symbol: str, end: int | None, limit: int) -> list[Kline]:
        for attempt in range(self.attempts):
            try:
                return await self.source.closed_before(symbol, end, limit)
            except RateLimited as e:
                if e.retry_after_s > self.max_wait_s or attempt == self.attempts - 1:
                    raise
                log.warning("backfill rate limited", symbol=symbol, retry_after_s=e.retry_after_s, banned=e.banned)
                await asyncio.sleep(e.retry_after_s)
            except TransientError:
                if attempt == self.attempts - 1:
                    raise
                await asyncio.sleep(backoff_delay(attempt, 0.5, 5.0))
        raise AssertionError("unreachable: the last attempt returns or raises")
