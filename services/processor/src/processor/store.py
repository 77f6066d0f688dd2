"""The processor's MongoDB access: klines (read, and made durable before acking), signals, checkpoints.

Documents follow the contracts: ``klines`` ``_id`` = Kline.event_id with the Kline fields (the
collector writes the same documents; whichever writer comes first wins, the content is identical),
``trade_signals`` ``_id`` = signal id, ``processor_state`` ``_id`` = "<strategy>:<SYMBOL>".
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

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


@dataclass(frozen=True, slots=True)
class ResumePoint:
    """The checkpoint (close time of the last bar handled) and the strategy state saved with it."""

    bar_close_time: int | None
    strategy_state: dict[str, str] | None


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
        return (await self.load_resume_point(key)).bar_close_time

    async def load_resume_point(self, key: str) -> ResumePoint:
        doc = await self._db[STATE].find_one({"_id": key})
        if doc is None:
            return ResumePoint(None, None)
        state = doc.get("strategy_state")
        return ResumePoint(int(doc["last_bar_close_time"]), None if state is None else dict(state))

    async def save_checkpoint(
        self, key: str, bar_close_time: int, now_ms: int, strategy_state: dict[str, str] | None = None
    ) -> None:
        """Move the checkpoint forward, with the strategy's state at that bar when given.

        Only a later bar replaces the document (a late or repeated write, e.g. from a replica whose
        lease just expired, never moves it back), so the time and the state always belong together.
        """
        fields: Document = {"last_bar_close_time": bar_close_time, "updated_at": now_ms}
        update: Document = {"$set": fields}
        if strategy_state is None:
            update["$unset"] = {"strategy_state": ""}  # never a state of another bar beside this time
        else:
            fields["strategy_state"] = strategy_state
        later = {"_id": key, "last_bar_close_time": {"$lt": bar_close_time}}
        if (await self._db[STATE].update_one(later, update)).matched_count:
            return
        # No document yet, or one at this bar or later; if another writer created it meanwhile, try once more.
        if not await insert_one_or_ignore(self._db[STATE], {"_id": key, **fields}):
            await self._db[STATE].update_one(later, update)

    async def nth_newest_open_time(self, symbol: str, n: int, until_open_time: int | None = None) -> int | None:
        """Open time of the ``n``-th newest closed 1m kline (up to ``until_open_time``); None if there are fewer."""
        query = _kline_query(symbol, None, until_open_time)
        cursor = self._db[KLINES].find(query, {"open_time": 1}).sort("open_time", DESCENDING).skip(n - 1).limit(1)
        docs = await cursor.to_list()
        return int(docs[0]["open_time"]) if docs else None

    async def count_klines(self, symbol: str, until_open_time: int | None) -> int:
        """Closed 1m klines stored up to ``until_open_time`` (None: all)."""
        return await self._db[KLINES].count_documents(_kline_query(symbol, None, until_open_time))

    async def oldest_open_time(self, symbol: str) -> int | None:
        docs = (
            await self._db[KLINES]
            .find(_kline_query(symbol, None, None), {"open_time": 1})
            .sort("open_time", ASCENDING)
            .limit(1)
            .to_list()
        )
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
