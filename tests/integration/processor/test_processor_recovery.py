"""Warm-up, catch-up, crashes and outages: no signal lost, none doubled, readiness tells the truth."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
import redis.asyncio as aioredis
from pymongo.asynchronous.database import AsyncDatabase

from algo_common.mongo import Document
from algo_trade.servers import LocalServer
from processor.pipeline import SymbolPipeline
from processor.service import ProcessorService
from processor.signals import to_signal
from processor.store import ProcessorStore
from processor.strategies.sma_cross import SmaCross
from tests.integration.processor.processor_harness import (
    BUY_AT_5,
    BUY_AT_10,
    SELL_AT_8,
    WAIT_S,
    Collector,
    Observer,
    RunProcessor,
    assert_signals,
    klines,
    readiness,
)
from tests.support import eventually, metric_value


async def test_crash_between_insert_and_publish_is_published_once_after_restart(
    run_processor: RunProcessor, collector: Collector, observer: Observer, mongo_db: AsyncDatabase[Document]
) -> None:
    # arrange: a processor handled bars 0..4 and stopped
    async with run_processor():
        await collector.emit(klines(range(5)))
        await observer.wait_checkpoint(4)
        await observer.wait_drained()
    await collector.emit(klines([5]))
    # ...then "crashed" on bar 5 right after inserting its signal: the same pieces in the same order, no publish
    pipeline = SymbolPipeline("BTCUSDT", "1m", SmaCross(2, 4))
    outcome = [o for k in klines(range(6)) for o in pipeline.on_kline(k)][-1]
    assert outcome.decision is not None
    stored = to_signal(pipeline.strategy, outcome.decision, outcome.bar, Decimal("0.001"), ts_decision=123)
    assert await ProcessorStore(mongo_db).insert_signal(stored)
    # act: restart
    async with run_processor():
        await observer.wait_checkpoint(5)
        await observer.wait_drained()
        # assert: the stored signal (its original decision time) is on the stream exactly once
        published = await observer.stream_signals()
        assert published == [stored]
        assert_signals(await observer.signal_docs(), published, [BUY_AT_5])


async def test_fresh_start_warms_up_silently_then_signals_a_live_crossing(
    run_processor: RunProcessor, collector: Collector, observer: Observer
) -> None:
    # arrange: history with two crossings, stored before the processor ever ran
    await collector.store(klines(range(10)))
    async with run_processor():
        await observer.wait_checkpoint(9)
        assert await observer.signal_docs() == []
        # act
        await collector.emit(klines([10]))
        await observer.wait_checkpoint(10)
        await observer.wait_drained()
        # assert
        assert_signals(await observer.signal_docs(), await observer.stream_signals(), [BUY_AT_10])


async def test_bars_stored_while_the_processor_was_down_are_caught_up_with_signals(
    run_processor: RunProcessor, collector: Collector, observer: Observer
) -> None:
    # arrange
    async with run_processor():
        await collector.emit(klines(range(5)))
        await observer.wait_checkpoint(4)
    await collector.store(klines(range(5, 10)))
    # act
    async with run_processor():
        await observer.wait_checkpoint(9)
        await collector.publish(klines(range(5, 10)))  # the stream copies arrive late
        await observer.wait_drained()
        # assert
        assert_signals(await observer.signal_docs(), await observer.stream_signals(), [BUY_AT_5, SELL_AT_8])


async def test_redis_outage_makes_it_unready_then_it_resumes_without_loss_or_duplicates(
    run_processor: RunProcessor,
    collector: Collector,
    observer: Observer,
    redis: aioredis.Redis,
    redis_server_proc: LocalServer | None,
) -> None:
    if redis_server_proc is None:
        pytest.skip("REDIS_URL points at an external Redis this test cannot stop")
    errors_before = metric_value("processor_dependency_errors_total", dependency="redis")
    async with run_processor() as service:
        await collector.emit(klines(range(5)))
        await observer.wait_checkpoint(4)
        try:
            # act: Redis goes away (and comes back empty: the test server keeps no data)
            await asyncio.to_thread(redis_server_proc.stop)
            await eventually(lambda: _status_is(service, 503), "readiness 503", timeout_s=WAIT_S)
            await collector.store(klines(range(5, 10)))  # the collector still reaches MongoDB
        finally:
            if not redis_server_proc.running:
                await asyncio.to_thread(redis_server_proc.start)
        await eventually(lambda: _status_is(service, 200), "readiness 200", timeout_s=WAIT_S)
        await observer.wait_signals(2)
        await eventually(redis.ping, "test client reconnected", timeout_s=WAIT_S)
        await collector.publish(klines(range(10)))  # the collector's stream copies, late
        await observer.wait_drained()
        # assert
        assert_signals(await observer.signal_docs(), await observer.stream_signals(), [BUY_AT_5, SELL_AT_8])
        assert metric_value("processor_dependency_errors_total", dependency="redis") > errors_before


async def test_mongodb_outage_makes_it_unready_then_it_resumes_without_loss_or_duplicates(
    run_processor: RunProcessor,
    collector: Collector,
    observer: Observer,
    redis: aioredis.Redis,
    mongo_server_proc: LocalServer | None,
) -> None:
    if mongo_server_proc is None:
        pytest.skip("MONGO_URI points at an external MongoDB this test cannot stop")
    errors_before = metric_value("processor_dependency_errors_total", dependency="mongodb")
    async with run_processor() as service:
        await collector.emit(klines(range(5)))
        await observer.wait_checkpoint(4)
        try:
            # act: MongoDB goes away; the crossing klines reach the stream only
            await asyncio.to_thread(mongo_server_proc.stop)
            await eventually(lambda: _status_is(service, 503), "readiness 503", timeout_s=WAIT_S)
            await collector.publish(klines(range(5, 10)))
            await eventually(
                lambda: _errors_above("mongodb", errors_before), "processor hit the outage", timeout_s=WAIT_S
            )
        finally:
            if not mongo_server_proc.running:
                await asyncio.to_thread(mongo_server_proc.start)
        await eventually(lambda: _status_is(service, 200), "readiness 200", timeout_s=WAIT_S)
        await observer.wait_checkpoint(9)
        await observer.wait_drained()
        # assert
        assert_signals(await observer.signal_docs(), await observer.stream_signals(), [BUY_AT_5, SELL_AT_8])
        assert metric_value("processor_dependency_errors_total", dependency="mongodb") > errors_before


async def _status_is(service: ProcessorService, status: int) -> bool:
    return await readiness(service) == status


async def _errors_above(dependency: str, before: float) -> bool:
    return metric_value("processor_dependency_errors_total", dependency=dependency) > before
