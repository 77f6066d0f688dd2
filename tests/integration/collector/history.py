"""What every fault test checks at the end: MongoDB's history is whole and the stream has no repeat."""

from __future__ import annotations

from collections import Counter

import redis.asyncio as aioredis
from pymongo.asynchronous.database import AsyncDatabase

from algo_common.domain.models import Kline, Trade
from algo_common.mongo import Document
from tests.integration.collector.collector_harness import SYMBOL, Sim, mongo_trade_ids, stream_events

MINUTE_MS = 60_000
FIRST_BAR_MS = 1_700_000_000_000 - 1_700_000_000_000 % MINUTE_MS
"""Open time of the simulator's first bar (its default ``start_time_ms``, floored to the minute)."""


async def trades_complete(db: AsyncDatabase[Document], sim: Sim, symbol: str = SYMBOL, from_start: bool = True) -> bool:
    """Every trade id the simulator sent is in MongoDB exactly once (a repeat fails at once).

    ``from_start=False``: the collector joined a running market, so the history starts at its first trade.
    """
    stored = await mongo_trade_ids_of(db, symbol)
    repeated = [trade_id for trade_id, n in Counter(stored).items() if n > 1]
    assert not repeated, f"trades stored twice: {repeated[:10]}"
    expected = await sim.trade_ids(symbol)
    if not from_start and stored:
        expected = {trade_id for trade_id in expected if trade_id >= min(stored)}
    return bool(expected) and set(stored) == expected


async def mongo_trade_ids_of(db: AsyncDatabase[Document], symbol: str) -> list[int]:
    if symbol == SYMBOL:
        return await mongo_trade_ids(db)
    return [doc["trade_id"] async for doc in db.trades.find({"symbol": symbol}, {"trade_id": 1})]


async def kline_open_times(db: AsyncDatabase[Document], symbol: str = SYMBOL) -> list[int]:
    return sorted([doc["open_time"] async for doc in db.klines.find({"symbol": symbol}, {"open_time": 1})])


async def klines_complete(db: AsyncDatabase[Document], sim: Sim, symbol: str = SYMBOL, from_start: bool = True) -> bool:
    """MongoDB holds a closed 1m kline for every bar the simulator closed (since the collector's first
    when not ``from_start``), each once; a hole between stored klines fails at once."""
    times = await kline_open_times(db, symbol)
    assert len(times) == len(set(times)), "a kline stored twice"
    if not times:
        return False
    assert times == list(range(times[0], times[-1] + MINUTE_MS, MINUTE_MS)), f"kline hole in {times}"
    closed = int((await sim.symbol_state(symbol))["closed_bars"])
    last_bar = FIRST_BAR_MS + (closed - 1) * MINUTE_MS
    return times[-1] == last_bar and (not from_start or times[0] == FIRST_BAR_MS)


async def stream_without_repeats(redis: aioredis.Redis, symbol: str = SYMBOL) -> list[int]:
    """Trade ids on ``market.{symbol}`` in order; fails when a trade or a closed kline is on it twice."""
    events = await stream_events(redis, symbol)
    trade_ids = [e.trade_id for e in events if isinstance(e, Trade)]
    closed = [e.open_time for e in events if isinstance(e, Kline) and e.closed]
    assert len(trade_ids) == len(set(trade_ids)), "a trade was published twice"
    assert len(closed) == len(set(closed)), "a closed kline was published twice"
    return trade_ids
