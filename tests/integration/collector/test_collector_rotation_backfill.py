"""Planned connection replacements lose and repeat nothing; missed trades and klines come back from REST.

Each test ends with the same proof: every trade id the simulator sent is in MongoDB exactly once,
the closed klines have no hole, and the stream carries no trade or closed kline twice.
"""

from __future__ import annotations

import redis.asyncio as aioredis
from pymongo.asynchronous.database import AsyncDatabase

from algo_common.mongo import Document
from tests.integration.collector.collector_harness import (
    SYMBOL,
    RunningCollector,
    Sim,
    collector_settings,
    running_collector,
)
from tests.integration.collector.conftest import StartSim
from tests.integration.collector.history import klines_complete, stream_without_repeats, trades_complete
from tests.support import eventually, metric_value


async def _rotations_above(floor: float, reason: str) -> bool:
    return metric_value("collector_rotations_total", reason=reason) > floor


async def _stepping_until(sim: Sim, condition: RunningCollector, connections: int) -> bool:
    """One market step per probe, so frames flow on both connections while they overlap."""
    await sim.step(1)
    return await condition.connected(connections)


async def test_server_shutdown_opens_the_new_connection_first_and_repeats_nothing(
    sim: Sim, redis: aioredis.Redis, redis_url: str, mongo_uri: str, db_name: str, mongo_db: AsyncDatabase[Document]
) -> None:
    # arrange
    settings = collector_settings(sim.running, redis_url, mongo_uri, db_name, rotation_overlap_s=0.5)
    rotations = metric_value("collector_rotations_total", reason="server_shutdown")
    reconnect_resyncs = metric_value("collector_book_resyncs_total", symbol=SYMBOL, reason="reconnect")
    reconnects = metric_value("collector_reconnects_total")
    async with running_collector(settings) as collector:
        await eventually(collector.connected, "the collector to connect")
        await sim.step(3)
        await eventually(collector.synced, "the first book sync")
        # act: the notice, then a market that keeps moving while both connections are read
        await sim.post("server-shutdown")
        await eventually(lambda: _stepping_until(sim, collector, 2), "the replacement connection")
        await sim.step(12)
        # assert
        await eventually(lambda: trades_complete(mongo_db, sim), "every trade in MongoDB exactly once")
        await eventually(lambda: klines_complete(mongo_db, sim), "every closed kline, without a hole")
        await eventually(collector.synced, "the book, still in sync")
        assert await _rotations_above(rotations, "server_shutdown")
        state = await sim.state()
        assert state["connections_total"] == 2
        assert collector.service.supervisors[0].reconnects == 0
    assert metric_value("collector_reconnects_total") == reconnects
    assert metric_value("collector_book_resyncs_total", symbol=SYMBOL, reason="reconnect") == reconnect_resyncs
    assert set(await stream_without_repeats(redis)) == await sim.trade_ids()


async def test_connections_are_rotated_before_the_venue_cuts_them_without_loss_or_repeat(
    start_sim: StartSim,
    redis: aioredis.Redis,
    redis_url: str,
    mongo_uri: str,
    db_name: str,
    mongo_db: AsyncDatabase[Document],
) -> None:
    # arrange: the venue cuts connections after 4 s (Binance: 24 h); the collector rotates every 1 s
    sim = await start_sim(rate=40, max_connection_s=4.0)
    settings = collector_settings(
        sim.running, redis_url, mongo_uri, db_name, rotate_after_s=1.0, rotation_overlap_s=0.3
    )
    rotations = metric_value("collector_rotations_total", reason="lifetime")
    resyncs = metric_value("collector_book_resyncs_total", symbol=SYMBOL)
    dropped = metric_value("collector_events_dropped_total")
    async with running_collector(settings) as collector:
        await eventually(collector.connected, "the collector to connect")
        await eventually(collector.synced, "the first book sync")
        # act
        await eventually(lambda: _rotations_above(rotations + 2, "lifetime"), "three rotations")
        await sim.post("pause")
        # assert
        await eventually(lambda: trades_complete(mongo_db, sim, from_start=False), "every trade once")
        await eventually(lambda: klines_complete(mongo_db, sim, from_start=False), "every closed kline once")
        state = await sim.state()
        assert state["closed_lifetime"] == 0, "the venue had to cut a connection"
        assert collector.service.supervisors[0].reconnects == 0
        assert metric_value("collector_book_resyncs_total", symbol=SYMBOL) == resyncs
        assert metric_value("collector_duplicates_total", kind="trade") > 0, "no overlap was exercised"
        assert metric_value("collector_events_dropped_total") == dropped, "an overlap's repeat counted as a loss"
        stream_ids = await stream_without_repeats(redis)
        assert stream_ids == sorted(stream_ids)
        assert set(stream_ids) == set(range(stream_ids[0], stream_ids[-1] + 1))


async def test_trades_and_klines_lost_in_a_stall_are_backfilled_from_rest(
    start_sim: StartSim,
    redis: aioredis.Redis,
    redis_url: str,
    mongo_uri: str,
    db_name: str,
    mongo_db: AsyncDatabase[Document],
) -> None:
    # arrange: a market that moves by itself (a bar every 0.25 s), so a stall loses trades and bars
    sim = await start_sim(rate=20)
    settings = collector_settings(sim.running, redis_url, mongo_uri, db_name, stall_timeout_s=1.0)
    backfilled = metric_value("collector_backfilled_total", kind="trades")
    backfilled_klines = metric_value("collector_backfilled_total", kind="klines")
    gaps = metric_value("collector_gaps_total", symbol=SYMBOL, kind="trades")
    async with running_collector(settings) as collector:
        await eventually(collector.connected, "the collector to connect")
        await eventually(lambda: klines_complete(mongo_db, sim, from_start=False), "a first closed kline")
        # act
        await sim.post("stall", {"seconds": 2})
        await eventually(lambda: collector.connected(2), "a new connection after the stall")
        await eventually(lambda: _lost_in_stall(sim), "frames lost in the stall")
        await eventually(lambda: _trades_above(mongo_db, sim), "live trades after the stall")
        await sim.post("pause")
        # assert
        await eventually(lambda: trades_complete(mongo_db, sim, from_start=False), "every trade once, holes filled")
        await eventually(lambda: klines_complete(mongo_db, sim, from_start=False), "every closed kline once")
    assert metric_value("collector_gaps_total", symbol=SYMBOL, kind="trades") > gaps
    assert metric_value("collector_backfilled_total", kind="trades") > backfilled
    assert metric_value("collector_backfilled_total", kind="klines") > backfilled_klines
    await stream_without_repeats(redis)


async def _lost_in_stall(sim: Sim) -> bool:
    return int((await sim.state())["frames_lost_in_stall"]) > 0


async def _trades_above(db: AsyncDatabase[Document], sim: Sim) -> bool:
    last = (await sim.symbol_state())["last_trade_id"]
    return await db.trades.count_documents({"trade_id": {"$gte": last}}) > 0


async def test_a_restarted_collector_backfills_what_happened_while_it_was_down(
    sim: Sim, redis_url: str, mongo_uri: str, db_name: str, mongo_db: AsyncDatabase[Document]
) -> None:
    # arrange: a first run stores the start of the history
    settings = collector_settings(sim.running, redis_url, mongo_uri, db_name)
    async with running_collector(settings) as collector:
        await eventually(collector.connected, "the first collector to connect")
        await sim.step(6)
        await eventually(lambda: trades_complete(mongo_db, sim), "the first run's trades")
    # act: the market moves on (two bars close) with no collector, then a new one starts
    await sim.step(10)
    async with running_collector(settings) as collector:
        await eventually(collector.connected, "the second collector to connect")
        await sim.step(2)  # no bar closes: the forming bar's first update reveals the missed ones
        # assert
        await eventually(lambda: trades_complete(mongo_db, sim), "every trade once, the downtime's included")
        await eventually(lambda: klines_complete(mongo_db, sim), "every closed kline once, no hole")


async def test_the_backfill_waits_out_a_429_and_a_418_ban_and_still_fills_the_hole(
    sim: Sim, redis_url: str, mongo_uri: str, db_name: str, mongo_db: AsyncDatabase[Document]
) -> None:
    # arrange: a first run, then trades while no collector runs
    settings = collector_settings(sim.running, redis_url, mongo_uri, db_name)
    async with running_collector(settings) as collector:
        await eventually(collector.connected, "the first collector to connect")
        await sim.step(3)
        await eventually(lambda: trades_complete(mongo_db, sim), "the first run's trades")
    await sim.step(6)
    rest_errors = metric_value("collector_dependency_errors_total", dependency="binance_rest")
    # act: the next REST answers are a 429 and a 418 ban, 1 s each
    await sim.post("rest-fail", {"status": 429, "retry_after_s": 1})
    await sim.post("rest-fail", {"status": 418, "retry_after_s": 1})
    async with running_collector(settings) as collector:
        await eventually(collector.connected, "the second collector to connect")
        await sim.step(2)
        # assert
        await eventually(lambda: trades_complete(mongo_db, sim), "every trade once despite the rate limits")
        assert (await sim.state())["rest_failures_sent"] == 2
        assert collector.service.gate.waited_s > 0, "no REST call was held back for Retry-After"
    assert metric_value("collector_dependency_errors_total", dependency="binance_rest") >= rest_errors + 2
