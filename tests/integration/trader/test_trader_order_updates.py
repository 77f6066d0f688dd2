"""Ledger.apply_order_update on real MongoDB: the lifecycle of an exchange order, replay-safe."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from algo_common.domain.ids import fill_id
from algo_common.domain.models import Fill, OrderStatus, Side
from algo_common.mongo import Document
from tests.integration.trader.trader_harness import make_signal
from trader.daily_pnl import utc_day
from trader.ledger import Ledger, UnknownOrder
from trader.orders import intent_document
from trader.position import Oversell
from trader.venues.base import OrderResult

BUY = make_signal(Side.BUY, "100", "1", bar_close_time=60_000)
SELL = make_signal(Side.SELL, "110", "1", bar_close_time=120_000)
DAY_MS = 86_400_000
T0 = 20_000 * DAY_MS + 5_000  # early on a UTC day


def _fill(order_id: str, side: Side, trade_id: int, price: str, qty: str, fee: str, ts: int = T0) -> Fill:
    return Fill(
        fill_id=fill_id(order_id, trade_id),
        client_order_id=order_id,
        symbol="BTCUSDT",
        side=side,
        price=Decimal(price),
        qty=Decimal(qty),
        fee=Decimal(fee),
        fee_asset="USDT",
        ts=ts,
    )


def _update(order_id: str, status: OrderStatus, *fills: Fill, detail: str = "") -> OrderResult:
    return OrderResult(client_order_id=order_id, status=status, fills=fills, detail=detail)


@pytest.fixture
async def ledger(mongo_client: AsyncMongoClient[Document], mongo_db: AsyncDatabase[Document]) -> Ledger:
    ledger = Ledger(mongo_client, mongo_db, "binance", "USDT")
    await ledger.ensure_indexes()
    for signal in (BUY, SELL):
        assert await ledger.insert_order(intent_document(signal, signal.quantity, "binance", "USDT", T0))
    return ledger


async def test_lifecycle_new_partial_filled_keeps_every_change_once(
    ledger: Ledger, mongo_db: AsyncDatabase[Document]
) -> None:
    # arrange
    oid = BUY.signal_id
    first = _fill(oid, Side.BUY, 501, "100", "0.4", "0.04")
    second = _fill(oid, Side.BUY, 502, "101", "0.6", "0.0606")
    updates = [
        _update(oid, OrderStatus.NEW, detail="ack"),
        _update(oid, OrderStatus.PARTIALLY_FILLED, first),
        _update(oid, OrderStatus.FILLED, second),
    ]
    # act: every update delivered twice (user data stream + reconciliation)
    for update in updates:
        await ledger.apply_order_update(update, T0 + 1)
        again = await ledger.apply_order_update(update, T0 + 2)
        assert not again.changed
    # assert
    order = await mongo_db.orders.find_one({"_id": oid})
    assert order is not None
    assert [e["status"] for e in order["events"]] == ["SUBMITTING", "NEW", "PARTIALLY_FILLED", "FILLED"]
    assert (order["status"], order["filled_qty"], order["cum_quote"]) == ("FILLED", Decimal("1.0"), Decimal("100.6"))
    assert order["fee"] == Decimal("0.1006")
    assert sorted(order["fill_ids"]) == [f"{oid}-501", f"{oid}-502"]
    assert await mongo_db.fills.count_documents({"client_order_id": oid}) == 2
    position = await ledger.position("BTCUSDT")
    assert (position.qty, position.avg_entry_price, position.fees) == (
        Decimal("1.0"),
        Decimal("100.6"),
        Decimal("0.1006"),
    )


async def test_sell_realizes_pnl_into_the_utc_day_of_the_fill(ledger: Ledger) -> None:
    # arrange
    await ledger.apply_order_update(
        _update(BUY.signal_id, OrderStatus.FILLED, _fill(BUY.signal_id, Side.BUY, 1, "100", "1", "0.1")), T0
    )
    next_day = T0 + DAY_MS
    sell = _fill(SELL.signal_id, Side.SELL, 2, "90", "1", "0.09", ts=next_day)
    # act
    applied = await ledger.apply_order_update(_update(SELL.signal_id, OrderStatus.FILLED, sell), next_day)
    # assert
    assert applied.position is not None
    assert (applied.position.qty, applied.position.realized_pnl) == (Decimal(0), Decimal("-10"))
    today = await ledger.daily_pnl(utc_day(next_day))
    assert (today.realized_pnl, today.fees) == (Decimal("-10"), Decimal("0.09"))
    yesterday = await ledger.daily_pnl(utc_day(T0))
    assert (yesterday.realized_pnl, yesterday.fees) == (Decimal(0), Decimal("0.1"))


async def test_final_status_is_never_overwritten(ledger: Ledger, mongo_db: AsyncDatabase[Document]) -> None:
    # arrange
    oid = BUY.signal_id
    await ledger.apply_order_update(_update(oid, OrderStatus.CANCELED), T0)
    # act
    applied = await ledger.apply_order_update(_update(oid, OrderStatus.NEW), T0 + 1)
    # assert
    assert not applied.changed
    order = await mongo_db.orders.find_one({"_id": oid})
    assert order is not None
    assert [e["status"] for e in order["events"]] == ["SUBMITTING", "CANCELED"]


async def test_update_of_an_unknown_order_writes_nothing(ledger: Ledger, mongo_db: AsyncDatabase[Document]) -> None:
    # act / assert
    with pytest.raises(UnknownOrder):
        await ledger.apply_order_update(
            _update("not-ours", OrderStatus.FILLED, _fill("not-ours", Side.BUY, 1, "1", "1", "0")), T0
        )
    assert await mongo_db.fills.count_documents({}) == 0


async def test_oversell_writes_nothing(ledger: Ledger, mongo_db: AsyncDatabase[Document]) -> None:
    # act / assert
    with pytest.raises(Oversell):
        await ledger.apply_order_update(
            _update(SELL.signal_id, OrderStatus.FILLED, _fill(SELL.signal_id, Side.SELL, 9, "1", "1", "0")), T0
        )
    order = await mongo_db.orders.find_one({"_id": SELL.signal_id})
    assert order is not None
    assert order["status"] == "SUBMITTING"
    assert await mongo_db.fills.count_documents({}) == 0


async def test_racing_deliveries_of_partial_fills_record_each_fill_once(
    ledger: Ledger, mongo_db: AsyncDatabase[Document]
) -> None:
    # arrange: three fills, each reported by two racing deliveries
    oid = BUY.signal_id
    fills = [_fill(oid, Side.BUY, n, "100", "0.1", "0.01") for n in range(3)]
    updates = [_update(oid, OrderStatus.PARTIALLY_FILLED, f) for f in fills] * 2
    # act
    await asyncio.gather(*(ledger.apply_order_update(u, T0) for u in updates))
    # assert
    order = await mongo_db.orders.find_one({"_id": oid})
    assert order is not None
    assert order["filled_qty"] == Decimal("0.3")
    assert len(order["fill_ids"]) == 3
    assert len(order["events"]) == 4
    assert await mongo_db.fills.count_documents({}) == 3
    assert (await ledger.position("BTCUSDT")).qty == Decimal("0.3")
