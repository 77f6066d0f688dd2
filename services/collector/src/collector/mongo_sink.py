"""MongoDB sink: trades -> ``trades``, closed klines -> ``klines``, book snapshots -> ``depth``.

``_id`` is the event's deterministic id, so a retried batch or a replayed stream inserts nothing
twice (``insert_or_ignore``: ``insert_many(ordered=False)``, duplicate-key errors ignored).
"""

from __future__ import annotations

import random

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from algo_common.collections import DEPTH, KLINES, TRADES, indexes_for
from algo_common.domain.models import Kline, Trade
from algo_common.health import Health
from algo_common.mongo import Document, ensure_indexes, insert_or_ignore, to_document
from collector.book_state import DepthRecord
from collector.metrics import CollectorMetrics
from collector.sinks import QueuedSink, SinkEvent, SinkOptions

INDEXES = indexes_for(TRADES, KLINES, DEPTH)

Stored = Trade | Kline | DepthRecord


class MongoSink(QueuedSink[Stored]):
    """Durable record of trades, closed klines and periodic book snapshots."""

    name = "mongodb"
    dependency = "mongodb"
    retry_errors = (PyMongoError,)

    def __init__(
        self,
        db: AsyncDatabase[Document],
        health: Health,
        metrics: CollectorMetrics,
        options: SinkOptions,
        rng: random.Random | None = None,
    ) -> None:
        super().__init__(health, metrics, options, rng)
        self._db = db

    def select(self, event: SinkEvent) -> Stored | None:
        if isinstance(event, Trade | DepthRecord):
            return event
        if isinstance(event, Kline) and event.closed:
            return event
        return None

    async def prepare(self) -> None:
        """Create the indexes (idempotent) before the first insert."""
        await ensure_indexes(self._db, INDEXES)

    async def write(self, batch: list[Stored], retry: bool) -> None:
        by_collection: dict[str, list[Document]] = {}
        for event in batch:
            by_collection.setdefault(_collection(event), []).append(to_document(event, doc_id=event.event_id))
        for collection, documents in by_collection.items():
            await insert_or_ignore(self._db[collection], documents)


def _collection(event: Stored) -> str:
    if isinstance(event, Trade):
        return TRADES
    if isinstance(event, Kline):
        return KLINES
    return DEPTH
