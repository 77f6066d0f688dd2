"""A MongoDB outage longer than the buffer: drops are loud, and the dropped history comes back from REST.

The test runs its own MongoDB server (stopped and started on purpose), so it never disturbs the
suite's shared one and runs also when MONGO_URI points elsewhere.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from algo_common.mongo import Document, create_client, get_database
from algo_trade.servers import LocalServer, mongo_server
from tests.integration.collector.collector_harness import RunningCollector, Sim, collector_settings, running_collector
from tests.integration.collector.history import klines_complete, trades_complete
from tests.support import eventually, metric_value


@pytest.fixture
def private_mongo(tmp_path: Path) -> Iterator[LocalServer]:
    server = mongo_server(tmp_path / "mongo")
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def private_db(private_mongo: LocalServer, db_name: str) -> AsyncIterator[AsyncDatabase[Document]]:
    client = create_client(private_mongo.url, "tests")
    yield get_database(client, db_name)
    await client.close()


async def _buffer_full(collector: RunningCollector) -> bool:
    status, body = await collector.readiness()
    return status == 503 and not body["dependencies"]["mongodb_queue"]["ok"]


async def test_mongodb_outage_beyond_the_buffer_drops_loudly_then_backfills_every_trade_once(
    sim: Sim,
    private_mongo: LocalServer,
    private_db: AsyncDatabase[Document],
    redis_url: str,
    db_name: str,
) -> None:
    # arrange: a buffer of 15 events per sink
    settings = collector_settings(sim.running, redis_url, private_mongo.url, db_name, queue_maxsize=15)
    dropped = metric_value("collector_events_dropped_total", reason="mongodb_queue_full")
    backfilled = metric_value("collector_backfilled_total", kind="trades")
    async with running_collector(settings) as collector:
        await eventually(collector.is_ready, "the collector to become ready")
        await sim.step(3)
        await eventually(lambda: trades_complete(private_db, sim), "trades before the outage")
        # act: MongoDB goes away while the market produces far more than the buffer holds
        await asyncio.to_thread(private_mongo.stop)
        try:
            await sim.step(25)
            await eventually(lambda: _buffer_full(collector), "readiness 503 naming the full MongoDB buffer")
            assert metric_value("collector_events_dropped_total", reason="mongodb_queue_full") > dropped
            assert collector.service.holes, "the dropped trades were not remembered for the backfill"
        finally:
            await asyncio.to_thread(private_mongo.start)
        await sim.step(5)
        # assert
        await eventually(collector.is_ready, "readiness 200 again, without a restart", timeout_s=60)
        await eventually(lambda: trades_complete(private_db, sim), "every trade exactly once", timeout_s=60)
        await eventually(lambda: klines_complete(private_db, sim), "every closed kline exactly once")
        assert not collector.task.done()
    assert metric_value("collector_backfilled_total", kind="trades") > backfilled
