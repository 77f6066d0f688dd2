"""The paper venue on real Redis: live book top from market.{SYMBOL}, idempotent by client order id, no oversell."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import redis.asyncio as aioredis
from pymongo.asynchronous.database import AsyncDatabase

from algo_common.domain.models import BookTop, OrderStatus, Side, Trade
from algo_common.mongo import Document
from algo_common.streams import EVENT_FIELD, encode_market_event, market_stream
from tests.integration.trader.trader_harness import FINAL, group_drained, make_signal, publish_signal, running_trader
from tests.support import eventually
from trader.book_top import BookTops
from trader.settings import TraderSettings
from trader.venues.base import OrderRequest
from trader.venues.paper import PaperVenue
from trader.venues.paper_fills import PaperTerms

TERMS = PaperTerms(fee_rate=Decimal("0.001"), fee_asset="USDT", slippage_bps=Decimal("2"))
TOP = BookTop(
    symbol="BTCUSDT",
    update_id=900,
    bid_price=Decimal("64999.90"),
    bid_qty=Decimal("1.5"),
    ask_price=Decimal("65000.00"),
    ask_qty=Decimal("0.3"),
    ts_event=1,
    ts_recv=2,
)


async def _publish_market(redis: aioredis.Redis, *events: BookTop | Trade) -> None:
    for event in events:
        await redis.xadd(market_stream(event.symbol), {EVENT_FIELD: encode_market_event(event)})


def _trade(n: int) -> Trade:
    return Trade(
        symbol="BTCUSDT",
        trade_id=n,
        price=Decimal("65000"),
        qty=Decimal("0.1"),
        buyer_is_maker=False,
        ts_trade=n,
        ts_event=n,
        ts_recv=n,
    )


def _order(side: Side, qty: str, oid: str = "a" * 32) -> OrderRequest:
    return OrderRequest(client_order_id=oid, symbol="BTCUSDT", side=side, quantity=Decimal(qty), price=Decimal("1"))


async def test_latest_book_top_is_found_behind_newer_trades(redis: aioredis.Redis) -> None:
    # arrange
    older = BookTop(**{**{f: getattr(TOP, f) for f in TOP.__struct_fields__}, "update_id": 1})
    await _publish_market(redis, older, TOP, *(_trade(n) for n in range(50)))
    # act
    found = await BookTops(redis, scan=100).latest("BTCUSDT")
    missing = await BookTops(redis, scan=10).latest("BTCUSDT")
    # assert
    assert found == TOP
    assert missing is None


async def test_resubmitted_order_executes_once_even_when_raced(redis: aioredis.Redis) -> None:
    # arrange
    await _publish_market(redis, TOP)
    venue = PaperVenue(redis, TERMS, BookTops(redis, 10))
    # act
    results = await asyncio.gather(*(venue.submit(_order(Side.BUY, "0.2")) for _ in range(5)))
    # assert
    assert all(result == results[0] for result in results)
    assert results[0].status is OrderStatus.FILLED
    assert results[0].fills[0].price == Decimal("65013.0000")  # ask * (1 + 2 bps)
    assert await venue.base_balance("BTCUSDT") == Decimal("0.2")
    assert await venue.query("a" * 32) == results[0]
    assert await venue.query("b" * 32) is None


async def test_sell_beyond_the_venue_balance_is_rejected(redis: aioredis.Redis) -> None:
    # arrange
    venue = PaperVenue(redis, TERMS, BookTops(redis, 10))
    await venue.submit(_order(Side.BUY, "0.2"))
    # act
    result = await venue.submit(_order(Side.SELL, "0.3", oid="c" * 32))
    # assert
    assert (result.status, result.reject_reason, result.fills) == (OrderStatus.REJECTED, "insufficient balance", ())
    assert await venue.base_balance("BTCUSDT") == Decimal("0.2")


async def test_trader_fills_against_the_book_top_and_expires_the_rest(
    trader_settings: TraderSettings, redis: aioredis.Redis, mongo_db: AsyncDatabase[Document]
) -> None:
    # arrange
    settings = trader_settings.model_copy(
        update={
            "paper_slippage_bps": Decimal("2"),
            "max_order_notional": Decimal("50000"),
            "starting_balance": Decimal("100000"),
        }
    )
    await _publish_market(redis, TOP, _trade(1))
    big_buy = make_signal(Side.BUY, "64000", "0.5", bar_close_time=60_000)
    # act
    async with running_trader(settings):
        await publish_signal(redis, big_buy)

        async def done() -> bool:
            final = await mongo_db.orders.count_documents({"status": {"$in": FINAL}})
            return final == 1 and await group_drained(redis)

        await eventually(done, "the order to end")
    # assert
    order = await mongo_db.orders.find_one({"_id": big_buy.signal_id})
    assert order is not None
    assert (order["status"], order["quantity"], order["filled_qty"]) == ("EXPIRED", Decimal("0.5"), Decimal("0.3"))
    assert order["avg_price"] == Decimal("65013.0000")
    assert [e["status"] for e in order["events"]] == ["SUBMITTING", "EXPIRED"]
    assert "book top ask 65000.00 x 0.3 (update 900)" in order["events"][1]["detail"]
    position = await mongo_db.positions.find_one({"_id": "paper:BTCUSDT"})
    assert position is not None
    assert position["qty"] == Decimal("0.3")
    assert position["fees"] == Decimal("19.50390000000")  # 0.1% of 0.3 * 65013
