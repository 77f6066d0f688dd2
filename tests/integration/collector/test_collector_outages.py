"""Dependency outages: the collector turns unready, keeps retrying, resumes by itself, loses and duplicates nothing.

Each test stops one of the suite's real servers, so it is skipped when REDIS_URL / MONGO_URI point at
servers the suite does not own.
"""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis
from pymongo.asynchronous.database import AsyncDatabase

from algo_common.domain.models import Trade
from algo_common.mongo import Document
from algo_trade.servers import LocalServer
from tests.integration.collector.collector_harness import (
    RunningCollector,
    Sim,
    collector_settings,
    mongo_trade_ids,
    running_collector,
    stream_events,
)
from tests.support import eventually, metric_value


async def _all_trades_stored(db: AsyncDatabase[Document], sim: Sim) -> bool:
    expected = await sim.trade_ids()
    return bool(expected) and sorted(await mongo_trade_ids(db)) == sorted(expected)


async def _dependency_down(collector: RunningCollector, name: str) -> bool:
    status, body = await collector.readiness()
    return status == 503 and not body["dependencies"][name]["ok"]


async def test_mongodb_outage_is_unready_then_recovers_without_losing_or_duplicating_trades(
    sim: Sim,
    mongo_server_proc: LocalServer | None,
    redis_url: str,
    mongo_uri: str,
    db_name: str,
    mongo_db: AsyncDatabase[Document],
) -> None:
    if mongo_server_proc is None:
        pytest.skip("MONGO_URI points at a MongoDB this suite does not own; it cannot be stopped")
    # arrange
    settings = collector_settings(sim.running, redis_url, mongo_uri, db_name)
    errors = metric_value("collector_dependency_errors_total", dependency="mongodb")
    async with running_collector(settings) as collector:
        await eventually(collector.is_ready, "the collector to become ready")
        await sim.step(3)
        await eventually(lambda: _all_trades_stored(mongo_db, sim), "trades before the outage")
        # act
        await asyncio.to_thread(mongo_server_proc.stop)
        try:
            await sim.step(4)  # trades produced while MongoDB is down
            await eventually(lambda: _dependency_down(collector, "mongodb"), "readiness 503 naming mongodb")
            await eventually(lambda: _writer_failing(collector), "the MongoDB writer to report its failure")
        finally:
            await asyncio.to_thread(mongo_server_proc.start)
        await sim.step(3)
        # assert
        await eventually(collector.is_ready, "readiness 200 again, without a restart")
        await eventually(lambda: _all_trades_stored(mongo_db, sim), "every trade, once, after the outage")
        assert not collector.task.done()
    stored = await mongo_trade_ids(mongo_db)
    assert len(stored) == len(set(stored)) == len(await sim.trade_ids())
    assert metric_value("collector_dependency_errors_total", dependency="mongodb") > errors


async def _writer_failing(collector: RunningCollector) -> bool:
    _, body = await collector.readiness()
    return not body["dependencies"]["mongodb_writer"]["ok"]


async def test_redis_outage_is_unready_then_recovers_without_losing_or_duplicating_events(
    sim: Sim,
    redis_server_proc: LocalServer | None,
    redis: aioredis.Redis,
    redis_url: str,
    mongo_uri: str,
    db_name: str,
    mongo_db: AsyncDatabase[Document],
) -> None:
    if redis_server_proc is None:
        pytest.skip("REDIS_URL points at a Redis this suite does not own; it cannot be stopped")
    # arrange
    settings = collector_settings(sim.running, redis_url, mongo_uri, db_name)
    errors = metric_value("collector_dependency_errors_total", dependency="redis")
    async with running_collector(settings) as collector:
        await eventually(collector.is_ready, "the collector to become ready")
        await sim.step(3)
        await eventually(lambda: _all_trades_stored(mongo_db, sim), "trades before the outage")
        before = await sim.trade_ids()
        await eventually(lambda: _stream_has(redis, before), "trades on the stream before the outage")
        # act: the test's Redis keeps no data across a restart, so the stream starts empty afterwards
        await asyncio.to_thread(redis_server_proc.stop)
        try:
            await sim.step(4)
            await eventually(lambda: _dependency_down(collector, "redis"), "readiness 503 naming redis")
        finally:
            await asyncio.to_thread(redis_server_proc.start)
        await sim.step(3)
        # assert
        await eventually(collector.is_ready, "readiness 200 again, without a restart")
        await eventually(lambda: _all_trades_stored(mongo_db, sim), "every trade in MongoDB")
        during_and_after = await sim.trade_ids() - before
        await eventually(lambda: _stream_has(redis, during_and_after), "the outage's trades on the stream")
    stream_trade_ids = [e.trade_id for e in await stream_events(redis) if isinstance(e, Trade)]
    assert len(stream_trade_ids) == len(set(stream_trade_ids)), "a trade was published twice"
    assert set(stream_trade_ids) == during_and_after
    stored = await mongo_trade_ids(mongo_db)
    assert len(stored) == len(set(stored)) == len(await sim.trade_ids())
    assert metric_value("collector_dependency_errors_total", dependency="redis") > errors


async def _stream_has(redis: aioredis.Redis, trade_ids: set[int]) -> bool:
    on_stream = {e.trade_id for e in await stream_events(redis) if isinstance(e, Trade)}
    return trade_ids <= on_stream
