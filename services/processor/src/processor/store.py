"""The processor's MongoDB access: klines (read, and made durable before acking), signals, checkpoints.

Documents follow the contracts: ``klines`` ``_id`` = Kline.event_id with the Kline fields (the
collector writes the same documents; whichever writer comes first wins, the content is identical),
``trade_signals`` ``_id`` = signal id, ``processor_state`` ``_id`` = "<strategy>:<SYMBOL>".
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import msgspec
from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

from algo_common.collections import KLINES, PROCESSOR_STATE, TRADE_SIGNALS, indexes_for
from algo_common.domain.models import Kline, Signal
from algo_common.mongo import Document, ensure_indexes, insert_one_or_ignore, insert_or_ignore, to_document

SIGNALS = TRADE_SIGNALS
STATE = PROCESSOR_STATE
SOURCE_INTERVAL = "1m"

INDEXES = indexes_for(KLINES, TRADE_SIGNALS, PROCESSOR_STATE)


def checkpoint_key(strategy: str, symbol: str, interval: str) -> str:
    """One checkpoint per strategy, symbol and bar interval (two intervals never share progress)."""
    return f"{strategy}:{symbol.upper()}:{interval}"


class ProcessorStore:
    """Typed reads and idempotent writes; every write is keyed by a deterministic id."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._db = db

    async def ensure_indexes(self) -> None:
        await ensure_indexes(self._db, INDEXES)

    async def load_checkpoint(self, key: str) -> int | None:
        doc = await self._db[STATE].find_one({"_id": key})
        return None if doc is None else int(doc["last_bar_close_time"])

    async def save_checkpoint(self, key: str, bar_close_time: int, now_ms: int) -> None:
        """Move the checkpoint forward (``$max``: a late or repeated write never moves it back)."""
        await self._db[STATE].update_one(
            {"_id": key},
            {"$max": {"last_bar_close_time": bar_close_time}, "$set": {"updated_at": now_ms}},
            upsert=True,
        )

    async def nth_newest_open_time(self, symbol: str, n: int, until_open_time: int | None = None) -> int | None:
        """Open time of the ``n``-th newest closed 1m kline (up to ``until_open_time``); None if there are fewer."""
        query = _kline_query(symbol, None, until_open_time)
        cursor = self._db[KLINES].find(query, {"open_time": 1}).sort("open_time", DESCENDING).skip(n - 1).limit(1)
        docs = await cursor.to_list()
        return int(docs[0]["open_time"]) if docs else None

    async def klines_between(
        self, symbol: str, first_open_time: int | None, last_open_time: int | None
    ) -> AsyncIterator[Kline]:
        """Closed 1m klines with open time in [first, last] (None: unbounded), oldest first, streamed."""
        query = _kline_query(symbol, first_open_time, last_open_time)
        async for doc in self._db[KLINES].find(query).sort("open_time", ASCENDING):
            yield _to_kline(doc)

    async def store_klines(self, klines: Sequence[Kline]) -> int:
        """Make consumed klines durable before their stream entries are acked; returns how many were new."""
        return await insert_or_ignore(self._db[KLINES], (to_document(k, doc_id=k.event_id) for k in klines))

    async def insert_signal(self, sig: Signal) -> bool:
        """False when a signal with this id is already stored (the decision was taken before)."""
        return await insert_one_or_ignore(self._db[SIGNALS], to_document(sig, doc_id=sig.signal_id))

    async def find_signal(self, signal_id: str) -> Signal | None:
        doc = await self._db[SIGNALS].find_one({"_id": signal_id})
        return None if doc is None else msgspec.convert(doc, Signal)


def _kline_query(symbol: str, first_open_time: int | None, last_open_time: int | None) -> Document:
    bounds: Document = {}
    if first_open_time is not None:
        bounds["$gte"] = first_open_time
    if last_open_time is not None:
        bounds["$lte"] = last_open_time
    query: Document = {"symbol": symbol, "interval": SOURCE_INTERVAL}
    if bounds:
        query["open_time"] = bounds
    return query


def _to_kline(doc: Document) -> Kline:
    return msgspec.convert(doc, Kline)
