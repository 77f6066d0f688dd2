"""What MongoDB already holds for a symbol: the newest stored trade id and closed kline open time."""

from __future__ import annotations

from pymongo import DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

from algo_common.collections import KLINES, TRADES
from algo_common.mongo import Document


async def last_stored(db: AsyncDatabase[Document], symbol: str, interval: str | None) -> tuple[int | None, int | None]:
    """(newest trade id, newest closed kline open time of ``interval``), None where there is none.

    Both queries follow an index: trades by (symbol, ts_trade), klines by (symbol, interval, open_time).
    """
    trade = await db[TRADES].find_one({"symbol": symbol}, {"trade_id": 1}, sort=[("ts_trade", DESCENDING)])
    kline = None
    if interval is not None:
        kline = await db[KLINES].find_one(
            {"symbol": symbol, "interval": interval}, {"open_time": 1}, sort=[("open_time", DESCENDING)]
        )
    return (None if trade is None else int(trade["trade_id"]), None if kline is None else int(kline["open_time"]))
