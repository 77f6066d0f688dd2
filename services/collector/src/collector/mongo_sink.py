"""MongoDB sink: trades -> ``trades``, closed klines -> ``klines``, book snapshots -> ``depth``.

``_id`` is the event's deterministic id, so a retried batch or a replayed stream inserts nothing
twice (``insert_or_ignore``: ``insert_many(ordered=False)``, duplicate-key errors ignored).
``trades`` and ``depth`` documents also carry ``event_time`` (a BSON date of ``ts_event``), the
field their TTL indexes expire on; klines are kept (the processor warms up from them).

Decimals are turned into ``Decimal128`` here (:func:`to_decimal128`) rather than by the codec of
:mod:`algo_common.mongo`: PyMongo's conversion tests the coefficient bit by bit in Python (about
15 us a value, most of the collector's CPU per trade); the same BID encoding from the integer
coefficient costs about 1 us. Same bits, so documents are unchanged.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal

from bson.decimal128 import Decimal128
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure, PyMongoError

from algo_common.collections import DEPTH, EVENT_TIME, KLINES, TRADES, TTL_INDEX, indexes_for, ttl_index
from algo_common.domain.models import Kline, Trade
from algo_common.health import Health
from algo_common.logging import get_logger
from algo_common.mongo import Document, ensure_indexes, insert_or_ignore, to_document
from collector.book_state import DepthRecord
from collector.metrics import CollectorMetrics
from collector.sinks import QueuedSink, SinkEvent, SinkOptions

log = get_logger(__name__)

INDEXES = indexes_for(TRADES, KLINES, DEPTH)
INDEX_OPTIONS_CONFLICT = (85, 86)  # IndexOptionsConflict, IndexKeySpecsConflict
DAY_S = 86_400
WRITE_CHUNK = 64
"""Most documents built and encoded in one go (about 10 us each): the event loop, which carries the
frames and the Redis writes, is never held for more than about a millisecond by MongoDB's batches."""
_BIAS = 6176  # Decimal128 exponent bias
_LOW = (1 << 64) - 1
_MAX_COEFFICIENT = 10**34  # Decimal128 holds 34 digits
_KLINE_DECIMALS = ("open", "high", "low", "close", "volume", "quote_volume")

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
        retention_days: Mapping[str, float] | None = None,
    ) -> None:
        super().__init__(health, metrics, options, rng)
        self._db = db
        self._retention_s = {name: round(days * DAY_S) for name, days in (retention_days or {}).items()}

    def select(self, event: SinkEvent) -> Stored | None:
        if isinstance(event, Trade | DepthRecord):
            return event
        if isinstance(event, Kline) and event.closed:
            return event
        return None

    async def prepare(self) -> None:
        """Create the indexes (idempotent) and the TTL indexes the retention settings ask for."""
        await ensure_indexes(self._db, INDEXES)
        for collection, retention_s in self._retention_s.items():
            await self._ensure_ttl(collection, retention_s)

    async def write(self, batch: list[Stored], retry: bool) -> None:
        for start in range(0, len(batch), WRITE_CHUNK):  # frames wait while documents are built and encoded
            by_collection: dict[str, list[Document]] = {}
            for event in batch[start : start + WRITE_CHUNK]:
                by_collection.setdefault(_collection(event), []).append(_document(event))
            for collection, documents in by_collection.items():
                await insert_or_ignore(self._db[collection], documents)

    async def _ensure_ttl(self, collection: str, retention_s: int) -> None:
        """Create, change (``collMod``) or drop the TTL index so it matches ``retention_s`` (0: none)."""
        existing = (await self._db[collection].index_information()).get(TTL_INDEX)
        if retention_s <= 0:
            if existing is not None:
                await self._db[collection].drop_index(TTL_INDEX)
            return
        try:
            await self._db[collection].create_indexes([ttl_index(retention_s)])
        except OperationFailure as e:
            if e.code not in INDEX_OPTIONS_CONFLICT:
                raise
            spec = {"keyPattern": {EVENT_TIME: 1}, "expireAfterSeconds": retention_s}
            await self._db.command("collMod", collection, index=spec)
            log.info("TTL changed", collection=collection, retention_s=retention_s)


def to_decimal128(value: Decimal) -> Decimal128:
    """``Decimal128(value)`` bit for bit, fast for the plain decimals markets send (``"-30000.12000000"``).

    The coefficient and exponent are read from ``str(value)`` when it has no exponent part (then
    it is exactly ``[-]digits[.digits]``); anything else (``1E+3``, NaN, more than 34 digits) is
    left to PyMongo.
    """
    text = str(value)
    whole, _, fraction = text.partition(".")
    if "E" in text:
        return Decimal128(value)
    try:
        coefficient = abs(int(whole + fraction))
    except ValueError:  # NaN, Infinity
        return Decimal128(value)
    if coefficient >= _MAX_COEFFICIENT:
        return Decimal128(value)
    high = (_BIAS - len(fraction)) << 49 | coefficient >> 64 | (text[0] == "-") << 63
    # (high, low) BID words: a documented constructor form that PyMongo's type hints leave out
    return Decimal128((high, coefficient & _LOW))  # type: ignore[arg-type]


def _document(event: Stored) -> Document:
    doc = to_document(event, doc_id=event.event_id)
    if isinstance(event, Trade):
        doc["price"], doc["qty"] = to_decimal128(event.price), to_decimal128(event.qty)
    elif isinstance(event, Kline):
        for name in _KLINE_DECIMALS:
            doc[name] = to_decimal128(doc[name])
        return doc
    else:
        doc["bids"] = [[to_decimal128(p), to_decimal128(q)] for p, q in event.bids]
        doc["asks"] = [[to_decimal128(p), to_decimal128(q)] for p, q in event.asks]
    doc[EVENT_TIME] = datetime.fromtimestamp(event.ts_event / 1000, UTC)
    return doc


def _collection(event: Stored) -> str:
    if isinstance(event, Trade):
        return TRADES
    if isinstance(event, Kline):
        return KLINES
    return DEPTH
