"""Ledger and executor recovery on real MongoDB: an outcome is recorded once, however it is retried."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import redis.asyncio as aioredis
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from algo_common.clock import now_ms
from algo_common.domain.models import Side
from algo_common.mongo import Document
from tests.integration.trader.trader_harness import (
    group_drained,
    make_signal,
    publish_signal,
    running_trader,
)
from tests.support import eventually, metric_value
from trader.ledger import Ledger
from trader.orders import intent_document, order_request
from trader.settings import TraderSettings
from trader.venues.paper_fills import PaperTerms, execute

BUY = make_signal(Side.BUY, "100", "0.5", bar_close_time=60_000)


async def test_racing_outcomes_of_one_order_record_one_fill(
    mongo_client: AsyncMongoClient[Document], mongo_db: AsyncDatabase[Document]
) -> None:
    # arrange
    ledger = Ledger(mongo_client, mongo_db, "paper", "USDT")
    await ledger.ensure_indexes()
    order = intent_document(BUY, BUY.quantity, "paper", "USDT", now_ms())
    assert await ledger.insert_order(order)
    result = execute(order_request(BUY, order), None, PaperTerms(Decimal("0.001"), "USDT", Decimal(0)), now_ms())
    # act
    outcomes = await asyncio.gather(*(ledger.apply_order_update(result, now_ms()) for _ in range(5)))
    # assert
    recorded = [applied.position for applied in outcomes if applied.changed]
    assert len(recorded) == 1
    assert recorded[0] is not None
    assert recorded[0].qty == Decimal("0.5")
    assert await mongo_db.fills.count_documents({}) == 1
    position = await ledger.position("BTCUSDT")
    assert (position.qty, position.fees, position.version) == (Decimal("0.5"), Decimal("0.05"), 1)


async def test_intent_insert_is_unique_per_signal(
    mongo_client: AsyncMongoClient[Document], mongo_db: AsyncDatabase[Document]
) -> None:
    # arrange
    ledger = Ledger(mongo_client, mongo_db, "paper", "USDT")
    order = intent_document(BUY, BUY.quantity, "paper", "USDT", now_ms())
    # act
    first = await ledger.insert_order(order)
    second = await ledger.insert_order(dict(order))
    # assert
    assert (first, second) == (True, False)
    assert await mongo_db.orders.count_documents({}) == 1


async def test_order_left_submitting_is_executed_once_on_redelivery(
    trader_settings: TraderSettings,
    redis: aioredis.Redis,
    mongo_client: AsyncMongoClient[Document],
    mongo_db: AsyncDatabase[Document],
) -> None:
    # arrange: a trader recorded the intent and died before the venue call
    ledger = Ledger(mongo_client, mongo_db, "paper", "USDT")
    assert await ledger.insert_order(intent_document(BUY, BUY.quantity, "paper", "USDT", now_ms()))
    await publish_signal(redis, BUY)
    # act
    async with running_trader(trader_settings):

        async def filled() -> bool:
            order = await mongo_db.orders.find_one({"_id": BUY.signal_id})
            return order is not None and order["status"] == "FILLED" and await group_drained(redis)

        await eventually(filled, "the SUBMITTING order to be filled")
    # assert
    order = await mongo_db.orders.find_one({"_id": BUY.signal_id})
    assert order is not None
    assert [e["status"] for e in order["events"]] == ["SUBMITTING", "FILLED"]
    assert "resumed" in order["events"][1]["detail"]
    assert await mongo_db.fills.count_documents({}) == 1
    assert (await ledger.position("BTCUSDT")).qty == Decimal("0.5")


async def test_submitting_sell_no_longer_covered_is_rejected_by_the_venue_not_oversold(
    trader_settings: TraderSettings,
    redis: aioredis.Redis,
    mongo_client: AsyncMongoClient[Document],
    mongo_db: AsyncDatabase[Document],
) -> None:
    # arrange: a SELL intent was recorded, but the position it relied on is gone
    sell = make_signal(Side.SELL, "120", "0.5", bar_close_time=120_000)
    refused = metric_value("trader_signals_rejected_total", reason="venue rejected")
    ledger = Ledger(mongo_client, mongo_db, "paper", "USDT")
    assert await ledger.insert_order(intent_document(sell, sell.quantity, "paper", "USDT", now_ms()))
    await publish_signal(redis, sell)
    # act
    async with running_trader(trader_settings):

        async def final() -> bool:
            order = await mongo_db.orders.find_one({"_id": sell.signal_id})
            return order is not None and order["status"] != "SUBMITTING" and await group_drained(redis)

        await eventually(final, "the uncovered SELL to get an outcome")
    # assert
    order = await mongo_db.orders.find_one({"_id": sell.signal_id})
    assert order is not None
    assert (order["status"], order["reject_reason"]) == ("REJECTED", "insufficient balance")  # the venue refused it
    assert metric_value("trader_signals_rejected_total", reason="venue rejected") == refused + 1
    assert await mongo_db.fills.count_documents({}) == 0
    assert await mongo_db.positions.count_documents({}) == 0
