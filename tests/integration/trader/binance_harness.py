"""Helpers of the Binance venue's integration tests: the simulator as Binance, a trader on it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import redis.asyncio as aioredis
from pydantic import SecretStr
from pymongo.asynchronous.database import AsyncDatabase

from algo_common.domain.models import Side, Signal
from algo_common.mongo import Document
from exchange_sim import RunningSimulator, SimSettings, start_simulator
from tests.binance_doc_keys import DOC_EXAMPLE_API_KEY, DOC_EXAMPLE_SECRET, doc_example_account
from tests.integration.trader.trader_harness import FINAL, group_drained, make_signal, running_trader
from tests.support import eventually
from trader.service import TraderService
from trader.settings import TraderSettings

SIM_PRICE = "30000"


@contextlib.asynccontextmanager
async def binance_sim(**settings: Any) -> AsyncIterator[RunningSimulator]:
    """The simulator on a free port; the market moves only when a test steps it."""
    sim = await start_simulator(
        SimSettings(**{"port": 0, "rate": 0, "trading_accounts": [doc_example_account()], **settings})
    )
    try:
        yield sim
    finally:
        await sim.close()


def binance_settings(base: TraderSettings, sim: RunningSimulator, **overrides: Any) -> TraderSettings:
    """``base`` switched to the Binance venue on ``sim`` with the documentation's HMAC key."""
    values = {
        **base.model_dump(),
        "venue": "binance",
        "binance_api_key": SecretStr(DOC_EXAMPLE_API_KEY),
        "binance_api_secret": SecretStr(DOC_EXAMPLE_SECRET),
        "binance_rest_url": sim.rest_url,
        "binance_ws_api_url": f"{sim.ws_url}/ws-api/v3",
        "binance_timeout_s": 1.0,
        "binance_recv_window_ms": 1000,  # an unanswered order is provably dead 1 s after it was sent
        "binance_reconnect_base_s": 0.05,
        "binance_reconnect_cap_s": 0.2,
        "binance_reconcile_interval_s": 600.0,
        "binance_balance_max_age_s": 1200.0,
        **overrides,
    }
    return TraderSettings(**values)


@contextlib.asynccontextmanager
async def binance_trader(
    settings: TraderSettings, http: httpx.AsyncClient, sim: RunningSimulator
) -> AsyncIterator[TraderService]:
    """A running trader whose start-up reconciliation is done and whose user data stream is subscribed."""
    async with running_trader(settings) as service:

        async def subscribed() -> bool:
            return int((await sim_trading_state(http, sim))["user_stream"]["subscriptions"]) >= 1

        await eventually(subscribed, "the trader's user data stream subscription")
        sync = service.sync
        assert sync is not None

        async def reconciled_after_connect() -> bool:
            return sync.reconciler.rounds >= 2  # start-up, then the one after the stream connected

        await eventually(reconciled_after_connect, "the reconciliation after the stream connected")
        yield service


async def sim_trading_state(http: httpx.AsyncClient, sim: RunningSimulator) -> dict[str, Any]:
    response = await http.get(f"{sim.control_url}/trading/state")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def sim_control(http: httpx.AsyncClient, sim: RunningSimulator, action: str, **body: Any) -> None:
    response = await http.post(f"{sim.control_url}/trading/{action}", json=body)
    assert response.status_code == 200, response.text


async def sim_orders(http: httpx.AsyncClient, sim: RunningSimulator, client_order_id: str) -> list[dict[str, Any]]:
    """Every simulator order with that client id (exactly one when nothing was doubled)."""
    account = (await sim_trading_state(http, sim))["accounts"][0]
    return [o for o in account["orders"] if o["clientOrderId"] == client_order_id]


async def sim_trades(http: httpx.AsyncClient, sim: RunningSimulator, order_id: int) -> list[dict[str, Any]]:
    account = (await sim_trading_state(http, sim))["accounts"][0]
    return [t for t in account["trades"] if t["orderId"] == order_id]


def buy(quantity: str = "0.01", bar: int = 60_000) -> Signal:
    return make_signal(Side.BUY, SIM_PRICE, quantity, bar_close_time=bar)


def as_decimals(rows: list[dict[str, Any]], *fields: str) -> list[tuple[Any, ...]]:
    return [tuple(Decimal(r[f]) if isinstance(r[f], str) else r[f] for f in fields) for r in rows]


async def final_order(db: AsyncDatabase[Document], redis: aioredis.Redis, order_id: str) -> Document:
    """The order once it is final and its signal acknowledged."""

    async def done() -> bool:
        order = await db.orders.find_one({"_id": order_id})
        return order is not None and order["status"] in FINAL and await group_drained(redis)

    await eventually(done, f"order {order_id} final and the signal acknowledged")
    order = await db.orders.find_one({"_id": order_id})
    assert order is not None
    return order
