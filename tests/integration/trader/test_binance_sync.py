"""MongoDB kept equal to the simulator by the user data stream and by reconciliation.

Orders are placed at the simulator directly (as if the trader's REST answer had been lost) for
client ids MongoDB holds, so the only way MongoDB learns the outcome is the path under test.
"""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import SecretStr
from pymongo.asynchronous.database import AsyncDatabase

from algo_common.clock import now_ms
from algo_common.domain.ids import fill_id
from algo_common.domain.models import Signal
from algo_common.mongo import Document
from exchange_sim import RunningSimulator
from tests.integration.exchange_sim.trading_helpers import SignedClient
from tests.integration.trader.binance_harness import (
    binance_settings,
    binance_trader,
    buy,
    sim_control,
    sim_orders,
    sim_trades,
)
from tests.integration.trader.trader_harness import running_trader
from tests.support import eventually, metric_value
from trader.orders import intent_document
from trader.settings import TraderSettings


async def _store_order(db: AsyncDatabase[Document], signal: Signal, status: str) -> None:
    order = intent_document(signal, signal.quantity, "binance", "USDT", now_ms())
    order["status"] = status
    await db.orders.insert_one(order)


async def _place_at_sim(http: httpx.AsyncClient, sim: RunningSimulator, signal: Signal) -> None:
    client = SignedClient(http, sim, clock_ms=now_ms)
    response = await client.order(
        side="BUY", type="MARKET", quantity=str(signal.quantity), newClientOrderId=signal.signal_id
    )
    assert response.status_code == 200, response.text


async def _filled_like_sim(
    db: AsyncDatabase[Document], http: httpx.AsyncClient, sim: RunningSimulator, signal: Signal
) -> Document:
    """Wait until MongoDB holds the order FILLED with exactly the simulator's trades."""
    [at_sim] = await sim_orders(http, sim, signal.signal_id)
    trades = await sim_trades(http, sim, at_sim["orderId"])
    expected = sorted((fill_id(signal.signal_id, t["id"]), Decimal(t["qty"])) for t in trades)

    async def repaired() -> bool:
        order = await db.orders.find_one({"_id": signal.signal_id})
        fills = sorted([(f["_id"], f["qty"]) async for f in db.fills.find({"client_order_id": signal.signal_id})])
        return order is not None and order["status"] == "FILLED" and fills == expected

    await eventually(repaired, f"order {signal.signal_id} FILLED with the simulator's {len(expected)} fills")
    order = await db.orders.find_one({"_id": signal.signal_id})
    assert order is not None
    return order


async def test_the_user_data_stream_applies_an_order_update(
    trader_settings: TraderSettings, mongo_db: AsyncDatabase[Document], sim: RunningSimulator, http: httpx.AsyncClient
) -> None:
    # arrange
    signal = buy()
    await _store_order(mongo_db, signal, "NEW")
    async with binance_trader(binance_settings(trader_settings, sim), http, sim):
        await sim_control(http, sim, "fail", target="query", count=1000)  # REST reconciliation cannot help
        # act
        await _place_at_sim(http, sim, signal)
        # assert
        order = await _filled_like_sim(mongo_db, http, sim, signal)
        await sim_control(http, sim, "reset")
    assert "user data stream" in order["events"][-1]["detail"]
    position = await mongo_db.positions.find_one({"_id": "binance:BTCUSDT"})
    assert position is not None
    assert position["qty"] == Decimal("0.01") - Decimal("0.00001")  # less the BUY's commission in BTC


async def test_a_missed_user_data_event_is_repaired_by_periodic_reconciliation(
    trader_settings: TraderSettings, mongo_db: AsyncDatabase[Document], sim: RunningSimulator, http: httpx.AsyncClient
) -> None:
    # arrange
    signal = buy()
    await _store_order(mongo_db, signal, "NEW")
    repairs = metric_value("trader_binance_reconcile_repairs_total", kind="periodic")
    settings = binance_settings(trader_settings, sim, binance_reconcile_interval_s=0.3)
    async with binance_trader(settings, http, sim):
        await sim_control(http, sim, "drop-events", count=1000)  # the stream says nothing more
        # act
        await _place_at_sim(http, sim, signal)
        # assert
        await _filled_like_sim(mongo_db, http, sim, signal)
    assert metric_value("trader_binance_reconcile_repairs_total", kind="periodic") == repairs + 1


async def test_startup_reconciliation_repairs_a_submitting_order_the_exchange_accepted(
    trader_settings: TraderSettings, mongo_db: AsyncDatabase[Document], sim: RunningSimulator, http: httpx.AsyncClient
) -> None:
    # arrange: the trader died after sending, before recording the answer
    signal = buy()
    await _store_order(mongo_db, signal, "SUBMITTING")
    await _place_at_sim(http, sim, signal)
    repairs = metric_value("trader_binance_reconcile_repairs_total", kind="startup")
    # act
    async with running_trader(binance_settings(trader_settings, sim)):
        # assert
        order = await _filled_like_sim(mongo_db, http, sim, signal)
    assert [e["status"] for e in order["events"]] == ["SUBMITTING", "FILLED"]
    assert metric_value("trader_binance_reconcile_repairs_total", kind="startup") == repairs + 1
    assert len(await sim_orders(http, sim, signal.signal_id)) == 1


@pytest.mark.parametrize("cut", ["disconnect", "server-shutdown"])
async def test_a_stream_reconnect_is_followed_by_a_reconciliation(
    trader_settings: TraderSettings,
    mongo_db: AsyncDatabase[Document],
    sim: RunningSimulator,
    http: httpx.AsyncClient,
    cut: str,
) -> None:
    # arrange
    signal = buy()
    await _store_order(mongo_db, signal, "NEW")
    reconnects = metric_value("trader_binance_user_stream_reconnects_total")
    async with binance_trader(binance_settings(trader_settings, sim), http, sim):
        await sim_control(http, sim, "drop-events", count=1000)
        await _place_at_sim(http, sim, signal)
        # act
        await sim_control(http, sim, cut)
        # assert
        await _filled_like_sim(mongo_db, http, sim, signal)
    assert metric_value("trader_binance_user_stream_reconnects_total") >= reconnects + 2


async def test_an_ed25519_key_signs_orders_and_logs_on_to_the_stream(
    trader_settings: TraderSettings, mongo_db: AsyncDatabase[Document], sim: RunningSimulator, http: httpx.AsyncClient
) -> None:
    # arrange
    private = Ed25519PrivateKey.generate()
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    private_pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    account = {
        "name": "ed",
        "balances": {"USDT": "100000", "BTC": "1"},
        "keys": [{"api_key": "ed25519-key", "public_key_pem": public_pem.decode()}],
    }
    await sim_control(http, sim, "accounts", **account)
    settings = binance_settings(
        trader_settings,
        sim,
        binance_api_key=SecretStr("ed25519-key"),
        binance_api_secret=None,
        binance_private_key=SecretStr(private_pem.decode()),
    )
    signal = buy()
    await _store_order(mongo_db, signal, "SUBMITTING")
    # act
    async with binance_trader(settings, http, sim):
        state = (await http.get(f"{sim.control_url}/trading/state")).json()
    # assert: start-up reconciliation queried (signed) and the stream subscribed after session.logon
    assert state["user_stream"]["subscriptions"] == 1
    assert (await mongo_db.orders.find_one({"_id": signal.signal_id}) or {})["status"] == "SUBMITTING"
