"""TTL indexes on the field every high-volume document actually carries, with the retention a setting."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

from pymongo.asynchronous.database import AsyncDatabase

from algo_common.collections import DEPTH, EVENT_TIME, KLINES, TRADES, TTL_INDEX
from algo_common.domain.models import Trade
from algo_common.health import Health
from algo_common.mongo import Document
from collector.metrics import collector_metrics
from collector.mongo_sink import MongoSink
from collector.sinks import SinkOptions

OPTIONS = SinkOptions(maxsize=100, batch_size=10, flush_interval_s=0, retry_base_s=0.01, retry_cap_s=0.1)
TRADE = Trade(
    symbol="BTCUSDT",
    trade_id=1,
    price=Decimal("30000.5"),
    qty=Decimal("0.1"),
    buyer_is_maker=True,
    ts_trade=1_700_000_000_123,
    ts_event=1_700_000_000_124,
    ts_recv=1_700_000_000_200,
)


async def _run(db: AsyncDatabase[Document], retention: dict[str, float], *events: Trade) -> None:
    sink = MongoSink(db, Health(liveness_timeout_s=60), collector_metrics(), OPTIONS, retention_days=retention)
    for event in events:
        sink.offer(event)
    finish = asyncio.Event()
    finish.set()
    await sink.run(finish)


async def _ttl_s(db: AsyncDatabase[Document], collection: str) -> int | None:
    index = (await db[collection].index_information()).get(TTL_INDEX)
    return None if index is None else int(index["expireAfterSeconds"])


async def test_trades_expire_by_their_event_time_after_the_configured_retention(
    mongo_db: AsyncDatabase[Document],
) -> None:
    # act
    await _run(mongo_db, {TRADES: 2.0, DEPTH: 0.5}, TRADE)
    # assert
    doc = await mongo_db.trades.find_one({"_id": TRADE.event_id})
    assert doc is not None
    assert doc[EVENT_TIME] == datetime.fromtimestamp(TRADE.ts_event / 1000, UTC)
    assert (await _ttl_s(mongo_db, TRADES), await _ttl_s(mongo_db, DEPTH)) == (2 * 86_400, 43_200)
    assert await _ttl_s(mongo_db, KLINES) is None, "klines are the processor's history: never expired"
    info = await mongo_db.trades.index_information()
    assert info[TTL_INDEX]["key"] == [(EVENT_TIME, 1)]


async def test_a_changed_retention_changes_the_index_and_zero_removes_it(mongo_db: AsyncDatabase[Document]) -> None:
    # arrange
    await _run(mongo_db, {TRADES: 2.0, DEPTH: 1.0})
    # act
    await _run(mongo_db, {TRADES: 30.0, DEPTH: 0.0})
    # assert
    assert await _ttl_s(mongo_db, TRADES) == 30 * 86_400
    assert await _ttl_s(mongo_db, DEPTH) is None
