"""The trader in-process on real Redis and MongoDB: exact fills, one order per signal, no silent refusal."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import redis.asyncio as aioredis
from pymongo.asynchronous.database import AsyncDatabase

from algo_common.domain.models import Side
from algo_common.mongo import Document
from algo_common.streams import SIGNALS_STREAM
from tests.integration.trader.trader_harness import (
    BUY,
    FINAL,
    SELL,
    group_drained,
    make_signal,
    publish_signal,
    running_trader,
    signal_fields,
)
from tests.support import eventually, metric_value
from trader.settings import TraderSettings


async def _finished(db: AsyncDatabase[Document], redis: aioredis.Redis, orders: int) -> None:
    async def done() -> bool:
        final = await db.orders.count_documents({"status": {"$in": FINAL}})
        return final == orders and await group_drained(redis)

    await eventually(done, f"{orders} final orders and a drained stream")


async def test_buy_then_sell_fills_exactly_and_closes_the_position(
    trader_settings: TraderSettings, redis: aioredis.Redis, mongo_db: AsyncDatabase[Document]
) -> None:
    # arrange
    filled_buys = metric_value("trader_orders_total", status="FILLED", side="BUY")
    async with running_trader(trader_settings):
        # act
        await publish_signal(redis, BUY)
        await publish_signal(redis, SELL)
        await _finished(mongo_db, redis, orders=2)
    # assert
    buy = await mongo_db.orders.find_one({"_id": BUY.signal_id})
    sell = await mongo_db.orders.find_one({"_id": SELL.signal_id})
    assert buy is not None
    assert sell is not None
    assert (buy["status"], sell["status"]) == ("FILLED", "FILLED")
    assert (buy["avg_price"], buy["filled_qty"], buy["cum_quote"]) == (
        Decimal("65000.10"),
        Decimal("0.01"),
        Decimal("650.0010"),
    )
    assert (buy["fee"], sell["fee"]) == (Decimal("0.6500010"), Decimal("0.6550035"))
    assert [e["status"] for e in buy["events"]] == ["SUBMITTING", "FILLED"]
    assert await mongo_db.fills.count_documents({}) == 2
    position = await mongo_db.positions.find_one({"_id": "paper:BTCUSDT"})
    assert position is not None
    assert position["qty"] == 0
    assert position["realized_pnl"] == Decimal("5.0025")  # (65500.35 - 65000.10) * 0.01
    assert position["fees"] == Decimal("1.3050045")  # 0.1% of 650.0010 + 0.1% of 655.0035
    assert metric_value("trader_orders_total", status="FILLED", side="BUY") == filled_buys + 1


async def test_same_signal_twice_on_the_stream_is_one_order(
    trader_settings: TraderSettings, redis: aioredis.Redis, mongo_db: AsyncDatabase[Document]
) -> None:
    # arrange: plain XADD, bypassing publish_once, as a replaying producer would
    await redis.xadd(SIGNALS_STREAM, signal_fields(BUY))  # type: ignore[arg-type]
    await redis.xadd(SIGNALS_STREAM, signal_fields(BUY))  # type: ignore[arg-type]
    # act
    async with running_trader(trader_settings):
        await _finished(mongo_db, redis, orders=1)
    # assert
    assert await mongo_db.orders.count_documents({}) == 1
    assert await mongo_db.fills.count_documents({}) == 1
    position = await mongo_db.positions.find_one({"_id": "paper:BTCUSDT"})
    assert position is not None
    assert position["qty"] == Decimal("0.01")


async def test_sell_without_position_is_rejected_and_stored(
    trader_settings: TraderSettings, redis: aioredis.Redis, mongo_db: AsyncDatabase[Document]
) -> None:
    # arrange
    rejected = metric_value("trader_signals_rejected_total", reason="no position")
    # act
    async with running_trader(trader_settings):
        await publish_signal(redis, SELL)
        await _finished(mongo_db, redis, orders=1)
    # assert
    order = await mongo_db.orders.find_one({"_id": SELL.signal_id})
    assert order is not None
    assert (order["status"], order["reject_reason"]) == ("REJECTED", "no position")
    assert [e["status"] for e in order["events"]] == ["REJECTED"]
    assert await mongo_db.fills.count_documents({}) == 0
    assert await mongo_db.positions.count_documents({}) == 0
    assert metric_value("trader_signals_rejected_total", reason="no position") == rejected + 1


async def test_stale_signal_is_rejected_and_stored(
    trader_settings: TraderSettings, redis: aioredis.Redis, mongo_db: AsyncDatabase[Document]
) -> None:
    # arrange
    stale = make_signal(Side.BUY, "100", "0.01", bar_close_time=60_000, ts_decision=1)
    # act
    async with running_trader(trader_settings):
        await publish_signal(redis, stale)
        await _finished(mongo_db, redis, orders=1)
    # assert
    order = await mongo_db.orders.find_one({"_id": stale.signal_id})
    assert order is not None
    assert (order["status"], order["reject_reason"]) == ("REJECTED", "stale signal")


async def test_sell_larger_than_the_position_sells_what_is_held(
    trader_settings: TraderSettings, redis: aioredis.Redis, mongo_db: AsyncDatabase[Document]
) -> None:
    # arrange
    big_sell = make_signal(Side.SELL, "65500.35", "0.05", bar_close_time=120_000)
    # act
    async with running_trader(trader_settings):
        await publish_signal(redis, BUY)
        await publish_signal(redis, big_sell)
        await _finished(mongo_db, redis, orders=2)
    # assert
    order = await mongo_db.orders.find_one({"_id": big_sell.signal_id})
    assert order is not None
    assert (order["status"], order["quantity"], order["filled_qty"]) == ("FILLED", Decimal("0.01"), Decimal("0.01"))
    position = await mongo_db.positions.find_one({"_id": "paper:BTCUSDT"})
    assert position is not None
    assert position["qty"] == 0


async def test_malformed_entry_is_acked_counted_and_skipped(
    trader_settings: TraderSettings, redis: aioredis.Redis, mongo_db: AsyncDatabase[Document]
) -> None:
    # arrange
    malformed = metric_value("trader_signals_rejected_total", reason="malformed")
    await redis.xadd(SIGNALS_STREAM, {b"signal": b"{not json"})
    await publish_signal(redis, BUY)
    # act
    async with running_trader(trader_settings):
        await _finished(mongo_db, redis, orders=1)
    # assert
    assert await mongo_db.orders.count_documents({"status": "FILLED"}) == 1
    assert metric_value("trader_signals_rejected_total", reason="malformed") == malformed + 1


async def test_two_traders_on_one_stream_make_one_order_per_signal(
    trader_settings: TraderSettings, redis: aioredis.Redis, mongo_db: AsyncDatabase[Document]
) -> None:
    # arrange
    signals = [make_signal(Side.BUY, "100", "0.001", bar_close_time=60_000 * (n + 1)) for n in range(20)]
    other = trader_settings.model_copy(update={"consumer_name": "trader-other", "read_count": 1})
    one = trader_settings.model_copy(update={"read_count": 1})
    # act
    async with running_trader(one), running_trader(other):
        await asyncio.gather(*(publish_signal(redis, s) for s in signals))
        await _finished(mongo_db, redis, orders=20)
    # assert
    assert await mongo_db.orders.count_documents({"status": "FILLED"}) == 20
    assert await mongo_db.fills.count_documents({}) == 20
    position = await mongo_db.positions.find_one({"_id": "paper:BTCUSDT"})
    assert position is not None
    assert position["qty"] == Decimal("0.020")
    assert position["fees"] == Decimal("0.0020")  # 20 * 0.1% of 0.1 USDT
