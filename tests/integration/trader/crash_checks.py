"""End-state checks of the trader crash tests: the venue's view, MongoDB and the stream agree exactly.

``VenueView`` is the venue's own record: the paper venue's Redis keys, or the exchange
simulator's state endpoint for the Binance venue.
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Protocol

import httpx
import msgspec
import redis.asyncio as aioredis
from pymongo.asynchronous.database import AsyncDatabase

from algo_common.mongo import Document
from exchange_sim.trading.control import AccountState, TradingStateView
from tests.integration.trader.trader_harness import group_drained, pending_count
from trader.book_top import BookTops
from trader.venues.base import OrderResult
from trader.venues.binance.filters import SymbolRules
from trader.venues.binance.mapping import from_query
from trader.venues.paper import ORDER_KEY, PaperVenue
from trader.venues.paper_fills import PaperTerms

SIM_START_BTC = Decimal(1)
"""BTC of the simulator's default account (documentation HMAC key) at start."""


class VenueView(Protocol):
    async def orders(self) -> dict[str, OrderResult]:
        """Every order the venue holds, by client order id."""
        ...

    async def base_balance(self, symbol: str) -> Decimal: ...


class PaperView:
    """The paper venue's own record in Redis (what survives every trader process)."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self._redis = redis
        self._venue = PaperVenue(redis, PaperTerms(Decimal(0), "USDT", Decimal(0)), BookTops(redis, 1))

    async def orders(self) -> dict[str, OrderResult]:
        prefix = ORDER_KEY.format("")
        result: dict[str, OrderResult] = {}
        async for key in self._redis.scan_iter(match=f"{prefix}*"):
            oid = key.decode().removeprefix(prefix)
            found = await self._venue.query(oid)
            assert found is not None
            result[oid] = found
        return result

    async def base_balance(self, symbol: str) -> Decimal:
        return await self._venue.base_balance(symbol)


async def assert_consistent(
    view: VenueView, db: AsyncDatabase[Document], redis: aioredis.Redis, signal_ids: set[str]
) -> dict[str, Document]:
    """One order per signal; every sent order equals the venue's; nothing unsent reached it; all acked."""
    assert await group_drained(redis)
    assert await pending_count(redis) == 0
    orders = {doc["_id"]: doc async for doc in db.orders.find({})}
    assert set(orders) == signal_ids, "one order document per signal, no other"
    at_venue = await view.orders()
    assert set(at_venue) <= set(orders), "the venue holds no order the ledger does not know"
    for oid, order in orders.items():
        assert order["status"] not in ("SUBMITTING", "NEW", "PARTIALLY_FILLED"), f"{oid} left open: {order}"
        venue_order = at_venue.get(oid)
        if venue_order is None:
            assert order["status"] == "REJECTED", f"{oid} never reached the venue but is {order['status']}"
            assert order["fill_ids"] == [], oid
            continue
        assert order["status"] == str(venue_order.status), oid
        fills = {doc["_id"]: doc async for doc in db.fills.find({"client_order_id": oid})}
        assert sorted(fills) == sorted(f.fill_id for f in venue_order.fills) == sorted(order["fill_ids"]), oid
        for fill in venue_order.fills:
            stored = fills[fill.fill_id]
            assert (stored["price"], stored["qty"], stored["fee"], stored["fee_asset"]) == (
                fill.price,
                fill.qty,
                fill.fee,
                fill.fee_asset,
            ), oid
        assert order["filled_qty"] == sum((f.qty for f in venue_order.fills), Decimal(0)), oid
        events = order["events"]
        assert events[0]["status"] == "SUBMITTING", oid
        assert events[-1]["status"] == str(venue_order.status), oid
        for before, after in itertools.pairwise(events):  # every entry is a change, none a replay
            assert after["status"] != before["status"] or after.get("fills"), f"{oid} repeats an event: {events}"
    return orders


class SimulatorView:
    """The exchange simulator's record (``GET /_sim/trading/state``), seen as the Binance venue maps it."""

    RULES = SymbolRules(symbol="BTCUSDT", status="TRADING", base_asset="BTC", quote_asset="USDT")

    def __init__(self, http: httpx.AsyncClient, control_url: str) -> None:
        self._http = http
        self._url = f"{control_url}/trading/state"

    async def account(self) -> AccountState:
        response = await self._http.get(self._url)
        assert response.status_code == 200, response.text
        return msgspec.json.decode(response.content, type=TradingStateView).accounts[0]

    async def orders(self) -> dict[str, OrderResult]:
        account = await self.account()
        by_id: dict[str, OrderResult] = {}
        for order in account.orders:
            assert order.clientOrderId not in by_id, f"two simulator orders for {order.clientOrderId}"
            by_id[order.clientOrderId] = from_query(order, account.trades, self.RULES)
        return by_id

    async def base_balance(self, symbol: str) -> Decimal:
        """BTC held minus the starting balance: exactly what the trader's position must hold (a BUY's
        commission charged in BTC never reached the account, so it is not in the position either)."""
        assert symbol == self.RULES.symbol
        account = await self.account()
        held = sum((b.free + b.locked for b in account.balances if b.asset == "BTC"), Decimal(0))
        return held - SIM_START_BTC
