"""Bars from the ``klines`` collection: stored bars of the interval, or built from stored 1m klines.

The collector stores closed 1m klines; bars of a longer interval are then built by the processor's
own :class:`BarBuilder`, so a backtest sees exactly the bars the live processor builds (aligned to
UTC, a bar only once its last minute closed, an unfinished last bar left out).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import msgspec
from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from algo_common.collections import KLINES
from algo_common.domain.models import Kline
from algo_common.mongo import Document
from processor.backtest.data import BarSeries
from processor.bars import BarBuilder

SOURCE_INTERVAL = "1m"


async def load_bars(
    db: AsyncDatabase[Document], symbol: str, interval: str, start: int | None = None, end: int | None = None
) -> BarSeries:
    """``symbol``'s closed ``interval`` bars with open time in [start, end] (ms; None: unbounded)."""
    symbol = symbol.upper()
    klines = [k async for k in _klines(db, symbol, interval, start, end)]
    if not klines and interval != SOURCE_INTERVAL:
        builder = BarBuilder(symbol, interval, SOURCE_INTERVAL)
        klines = [bar async for k in _klines(db, symbol, SOURCE_INTERVAL, start, end) for bar in builder.on_kline(k)]
    if not klines:
        raise ValueError(f"no closed {symbol} klines of {interval} or {SOURCE_INTERVAL} in MongoDB")
    return BarSeries.from_klines(klines)


async def _klines(
    db: AsyncDatabase[Document], symbol: str, interval: str, start: int | None, end: int | None
) -> AsyncIterator[Kline]:
    query: Document = {"symbol": symbol, "interval": interval, "closed": True}
    bounds: Document = {}
    if start is not None:
        bounds["$gte"] = start
    if end is not None:
        bounds["$lte"] = end
    if bounds:
        query["open_time"] = bounds
    async for doc in db[KLINES].find(query).sort("open_time", ASCENDING):
        yield msgspec.convert(doc, Kline)
