"""The collector in-process against the exchange simulator, real Redis and real MongoDB."""

from __future__ import annotations

from decimal import Decimal

import redis.asyncio as aioredis
from pydantic import SecretStr
from pymongo.asynchronous.database import AsyncDatabase

from algo_common.domain.models import BookTop, Kline, Trade
from algo_common.mongo import Document
from algo_trade.servers import free_port
from collector.settings import CollectorSettings
from tests.integration.collector.collector_harness import (
    SYMBOL,
    Sim,
    collector_settings,
    mongo_trade_ids,
    running_collector,
    stream_events,
)
from tests.integration.collector.conftest import StartSim
from tests.integration.collector.history import klines_complete, trades_complete
from tests.support import eventually, metric_value


async def _has_trades(db: AsyncDatabase[Document], sim: Sim) -> bool:
    expected = await sim.trade_ids()
    return bool(expected) and set(await mongo_trade_ids(db)) == expected


async def test_trades_and_closed_klines_land_once_in_mongodb_and_on_the_stream(
    sim: Sim, redis: aioredis.Redis, redis_url: str, mongo_uri: str, db_name: str, mongo_db: AsyncDatabase[Document]
) -> None:
    # arrange
    settings = collector_settings(sim.running, redis_url, mongo_uri, db_name)
    async with running_collector(settings) as collector:
        await eventually(collector.connected, "the collector to connect")
        # act: 12 steps of 5 per bar close two bars
        await sim.step(12)
        await eventually(lambda: _has_trades(mongo_db, sim), "every simulated trade in MongoDB")
        await eventually(lambda: _klines_stored(mongo_db, 2), "two closed klines in MongoDB")
        await eventually(collector.synced, "the local book to sync")
        state = await sim.symbol_state()
        await eventually(lambda: _top_on_stream(redis, state), "the simulator's top of book on the stream")
    # assert: MongoDB holds each trade once, with ids and exact decimals
    expected = await sim.trade_ids()
    stored = await mongo_trade_ids(mongo_db)
    assert sorted(stored) == sorted(expected)
    doc = await mongo_db.trades.find_one({"_id": f"{SYMBOL}:trade:{min(expected)}"})
    assert doc is not None
    assert isinstance(doc["price"], Decimal)
    klines = [k async for k in mongo_db.klines.find({})]
    assert len(klines) == 2
    assert all(k["closed"] and k["_id"] == f"{SYMBOL}:kline:1m:{k['open_time']}" for k in klines)
    # assert: the stream carries each trade once, every kline update, and book tops
    events = await stream_events(redis)
    stream_trades = [e for e in events if isinstance(e, Trade)]
    assert sorted(t.trade_id for t in stream_trades) == sorted(expected)
    stream_trade = next(t for t in stream_trades if t.trade_id == min(expected))
    assert stream_trade.price == doc["price"]
    assert stream_trade.ts_recv >= stream_trade.ts_event > 0
    stream_klines = [e for e in events if isinstance(e, Kline)]
    assert {k.open_time for k in stream_klines if k.closed} == {k["open_time"] for k in klines}
    assert any(not k.closed for k in stream_klines)
    assert any(isinstance(e, BookTop) for e in events)
    # assert: periodic depth snapshots with N levels per side
    depth = await mongo_db.depth.find_one({})
    assert depth is not None
    assert 0 < len(depth["bids"]) <= settings.depth_persist_levels
    assert depth["_id"] == f"{SYMBOL}:depth:{depth['update_id']}"
    assert metric_value("collector_event_latency_seconds_count", kind="trade") > 0
    kline_indexes = await mongo_db.klines.index_information()
    assert kline_indexes["symbol_interval_open_time"]["unique"] is True
    assert "symbol_ts_trade" in await mongo_db.trades.index_information()
    assert "symbol_ts_event" in await mongo_db.depth.index_information()


async def _klines_stored(db: AsyncDatabase[Document], count: int) -> bool:
    return await db.klines.count_documents({}) == count


async def _top_on_stream(redis: aioredis.Redis, state: dict[str, object]) -> bool:
    tops = [e for e in await stream_events(redis) if isinstance(e, BookTop)]
    return bool(tops) and (str(tops[-1].bid_price), str(tops[-1].ask_price)) == (state["best_bid"], state["best_ask"])


async def test_cut_connection_reconnects_and_data_keeps_flowing(
    sim: Sim, redis: aioredis.Redis, redis_url: str, mongo_uri: str, db_name: str, mongo_db: AsyncDatabase[Document]
) -> None:
    # arrange
    settings = collector_settings(sim.running, redis_url, mongo_uri, db_name)
    reconnects = metric_value("collector_reconnects_total")
    resyncs = metric_value("collector_book_resyncs_total", symbol=SYMBOL, reason="reconnect")
    async with running_collector(settings) as collector:
        await eventually(collector.connected, "the collector to connect")
        await sim.step(3)
        await eventually(lambda: _has_trades(mongo_db, sim), "trades before the cut")
        # act
        await sim.post("cut")
        await eventually(lambda: collector.connected(2), "a second connection")
        await sim.step(3)
        # assert
        await eventually(lambda: trades_complete(mongo_db, sim), "every trade once after the reconnect")
        await eventually(lambda: klines_complete(mongo_db, sim), "every closed kline once, no hole")
        await eventually(collector.synced, "the book to resync after the reconnect")
        state = await sim.symbol_state()
        await eventually(lambda: _top_on_stream(redis, state), "the resynced top of book on the stream")
    assert metric_value("collector_reconnects_total") >= reconnects + 1
    assert metric_value("collector_book_resyncs_total", symbol=SYMBOL, reason="reconnect") >= resyncs + 1


async def test_malformed_frames_are_counted_and_skipped_while_good_ones_flow(
    sim: Sim, redis_url: str, mongo_uri: str, db_name: str, mongo_db: AsyncDatabase[Document]
) -> None:
    # arrange
    settings = collector_settings(sim.running, redis_url, mongo_uri, db_name)
    bad_envelope = metric_value("collector_events_dropped_total", reason="bad_envelope")
    bad_payload = metric_value("collector_events_dropped_total", reason="bad_payload")
    non_numeric = (
        '{"stream":"btcusdt@trade","data":{"e":"trade","E":1,"s":"BTCUSDT","t":999999,'
        '"p":"abc","q":"1","T":1,"m":true}}'
    )
    async with running_collector(settings) as collector:
        await eventually(collector.connected, "the collector to connect")
        # act
        await sim.post("inject", {"text": "{not json"})
        await sim.post("inject", {"text": non_numeric})
        await sim.step(3)
        # assert
        await eventually(lambda: _has_trades(mongo_db, sim), "good trades after the bad frames")
        assert metric_value("collector_events_dropped_total", reason="bad_envelope") == bad_envelope + 1
        assert metric_value("collector_events_dropped_total", reason="bad_payload") == bad_payload + 1
        assert await mongo_db.trades.count_documents({"trade_id": 999999}) == 0
        assert collector.service.supervisors[0].connections == 1
        assert not collector.task.done()


async def test_server_shutdown_notice_makes_the_collector_reconnect(
    sim: Sim, redis_url: str, mongo_uri: str, db_name: str, mongo_db: AsyncDatabase[Document]
) -> None:
    # arrange
    settings = collector_settings(sim.running, redis_url, mongo_uri, db_name)
    async with running_collector(settings) as collector:
        await eventually(collector.connected, "the collector to connect")
        # act
        await sim.post("server-shutdown")
        # assert
        await eventually(lambda: collector.connected(2), "a new connection after serverShutdown")
        await sim.step(2)
        await eventually(lambda: _has_trades(mongo_db, sim), "trades on the new connection")


async def test_stalled_socket_is_closed_by_the_watchdog_and_replaced(
    start_sim: StartSim, redis_url: str, mongo_uri: str, db_name: str, mongo_db: AsyncDatabase[Document]
) -> None:
    # arrange: a market that moves by itself, so silence means a stall
    sim = await start_sim(rate=20)
    settings = collector_settings(sim.running, redis_url, mongo_uri, db_name, stall_timeout_s=1.0)
    async with running_collector(settings) as collector:
        await eventually(collector.connected, "the collector to connect")
        await eventually(lambda: _trades_after(mongo_db, sim), "live trades")
        # act
        await sim.post("stall", {"seconds": 3})
        # assert
        await eventually(lambda: collector.connected(2), "a new connection after the stall")
        await eventually(lambda: _trades_after(mongo_db, sim), "trades produced after the stall")


async def _trades_after(db: AsyncDatabase[Document], sim: Sim) -> bool:
    last = (await sim.symbol_state())["last_trade_id"]
    return await db.trades.count_documents({"trade_id": {"$gte": last}}) > 0


async def test_server_pings_are_answered_with_their_payload(
    start_sim: StartSim, redis_url: str, mongo_uri: str, db_name: str
) -> None:
    # arrange: the simulator aborts a connection whose pong (same payload) is 1 s late; pongs count
    # towards Binance's 5 incoming messages per second, so the pings come at 3 per second
    sim = await start_sim(ping_interval_s=0.33, pong_timeout_s=1.0)
    settings = collector_settings(sim.running, redis_url, mongo_uri, db_name)
    async with running_collector(settings) as collector:
        await eventually(collector.connected, "the collector to connect")
        # act
        await eventually(lambda: _pongs(sim, 6), "six pongs")
        # assert
        state = await sim.state()
        assert state["closed_pong_timeout"] == 0
        assert state["connections_total"] == 1
        assert collector.service.supervisors[0].connections == 1


async def _pongs(sim: Sim, count: int) -> bool:
    return int((await sim.state())["pongs_received"]) >= count


async def test_sequence_gap_resyncs_the_book_from_a_new_snapshot(
    sim: Sim,
    redis: aioredis.Redis,
    redis_url: str,
    mongo_uri: str,
    db_name: str,
    mongo_db: AsyncDatabase[Document],
) -> None:
    # arrange
    settings = collector_settings(sim.running, redis_url, mongo_uri, db_name)
    gaps = metric_value("collector_book_resyncs_total", symbol=SYMBOL, reason="gap")
    async with running_collector(settings) as collector:
        await eventually(collector.connected, "the collector to connect")
        await sim.step(2)
        await eventually(collector.synced, "the first sync")
        # act
        await sim.post("skip-sequence", {"symbol": SYMBOL, "count": 3})
        await sim.step(2)
        # assert
        await eventually(lambda: _gap_resyncs_above(gaps), "a gap resync")
        await sim.step(2)
        await eventually(collector.synced, "the book to sync again")
        state = await sim.symbol_state()
        await eventually(lambda: _top_on_stream(redis, state), "the true top of book after the resync")
        book = collector.service.books.books[SYMBOL].book
        assert book is not None
        assert book.update_id == state["last_update_id"]
        await eventually(lambda: trades_complete(mongo_db, sim), "every trade once across the resync")


async def _gap_resyncs_above(floor: float) -> bool:
    return metric_value("collector_book_resyncs_total", symbol=SYMBOL, reason="gap") > floor


async def test_unreachable_venue_keeps_the_collector_retrying_and_unready(
    redis_url: str, mongo_uri: str, db_name: str
) -> None:
    # arrange: nothing listens on these ports
    port = free_port()
    settings = CollectorSettings(
        symbols=[SYMBOL],
        ws_base_url=f"ws://127.0.0.1:{port}",
        rest_base_url=f"http://127.0.0.1:{port}",
        redis_url=SecretStr(redis_url),
        mongo_uri=SecretStr(mongo_uri),
        mongo_db=db_name,
        reconnect_backoff_base_s=0.01,
        reconnect_backoff_cap_s=0.05,
    )
    reconnects = metric_value("collector_reconnects_total")
    async with running_collector(settings) as collector:
        # act
        await eventually(lambda: _reconnects_above(reconnects + 3), "three reconnect attempts")
        # assert
        status, body = await collector.readiness()
        assert status == 503
        assert body["dependencies"]["binance_ws"]["ok"] is False
        assert body["dependencies"]["mongodb"]["ok"] is True
        assert not collector.task.done()


async def _reconnects_above(floor: float) -> bool:
    return metric_value("collector_reconnects_total") >= floor
