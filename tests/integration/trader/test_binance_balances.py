"""The Binance venue's money: positions equal to the account's base balance, risk on Binance's own balances.

Against the exchange simulator: its commissions are Binance's (BUY in the base asset, SELL in the
quote asset, or BNB when the account pays in it), and its ``/_sim/trading/state`` is the account
the trader's records must equal to the last digit.
"""

from __future__ import annotations

from decimal import Decimal

import httpx
import redis.asyncio as aioredis
from pymongo.asynchronous.database import AsyncDatabase

from algo_common.mongo import Document
from exchange_sim import RunningSimulator
from tests.binance_doc_keys import DOC_EXAMPLE_API_KEY, DOC_EXAMPLE_SECRET
from tests.integration.trader.binance_harness import (
    binance_settings,
    binance_trader,
    buy,
    final_order,
    sim_control,
    sim_orders,
    sim_trading_state,
)
from tests.integration.trader.trader_harness import publish_signal
from tests.support import eventually, metric_value
from trader.reconcile_binance import BinanceSync
from trader.settings import TraderSettings

KEYS = [{"api_key": DOC_EXAMPLE_API_KEY, "secret": DOC_EXAMPLE_SECRET}]


async def _sim_balances(http: httpx.AsyncClient, sim: RunningSimulator) -> dict[str, Decimal]:
    account = (await sim_trading_state(http, sim))["accounts"][0]
    return {b["asset"]: Decimal(b["free"]) + Decimal(b["locked"]) for b in account["balances"]}


def _sync(service_sync: BinanceSync | None) -> BinanceSync:
    assert service_sync is not None
    return service_sync


async def test_a_bnb_commission_leaves_the_position_whole_and_is_recorded_with_its_asset(
    trader_settings: TraderSettings,
    redis: aioredis.Redis,
    mongo_db: AsyncDatabase[Document],
    sim: RunningSimulator,
    http: httpx.AsyncClient,
) -> None:
    # arrange: the account pays its commissions in BNB (600 USDT)
    balances = {"USDT": "100000", "BNB": "1"}
    await sim_control(http, sim, "accounts", balances=balances, keys=KEYS, fee_asset="BNB", fee_asset_price="600")
    signal = buy("0.01")
    async with binance_trader(binance_settings(trader_settings, sim), http, sim):
        # act
        await publish_signal(redis, signal)
        order = await final_order(mongo_db, redis, signal.signal_id)
    # assert
    assert order["status"] == "FILLED"
    fills = [f async for f in mongo_db.fills.find({"client_order_id": signal.signal_id})]
    assert {f["fee_asset"] for f in fills} == {"BNB"}
    in_bnb = sum((f["fee"] for f in fills), Decimal(0))
    held = await _sim_balances(http, sim)
    assert in_bnb > 0
    assert held["BNB"] == Decimal(1) - in_bnb
    position = await mongo_db.positions.find_one({"_id": "binance:BTCUSDT"})
    assert position is not None
    assert position["qty"] == Decimal("0.01") == held["BTC"]  # all of it arrived
    assert position["commissions"] == {"BNB": in_bnb} == order["commissions"]
    assert (position["fees"], position["cost_basis"]) == (0, order["cum_quote"])  # BNB is not in the quote P&L


async def test_a_buy_beyond_the_free_quote_balance_is_rejected_before_binance(
    trader_settings: TraderSettings,
    redis: aioredis.Redis,
    mongo_db: AsyncDatabase[Document],
    sim: RunningSimulator,
    http: httpx.AsyncClient,
) -> None:
    # arrange: 250 USDT on Binance, the ledger's TRADER_STARTING_BALANCE far more; the order needs ~300.3
    await sim_control(http, sim, "accounts", balances={"USDT": "250"}, keys=KEYS)
    settings = binance_settings(trader_settings, sim, starting_balance=Decimal(1_000_000))
    signal = buy("0.01")
    rejected = metric_value("trader_signals_rejected_total", reason="insufficient balance")
    async with binance_trader(settings, http, sim):
        # act
        await publish_signal(redis, signal)
        order = await final_order(mongo_db, redis, signal.signal_id)
    # assert
    assert (order["status"], order["reject_reason"]) == ("REJECTED", "insufficient balance")
    assert await sim_orders(http, sim, signal.signal_id) == []
    assert metric_value("trader_signals_rejected_total", reason="insufficient balance") == rejected + 1


async def test_balances_follow_the_user_data_stream_between_reconciliations(
    trader_settings: TraderSettings,
    redis: aioredis.Redis,
    mongo_db: AsyncDatabase[Document],
    sim: RunningSimulator,
    http: httpx.AsyncClient,
) -> None:
    # arrange
    signal = buy("0.01")
    async with binance_trader(binance_settings(trader_settings, sim), http, sim) as service:
        sync = _sync(service.sync)
        rounds = sync.reconciler.rounds
        # act
        await publish_signal(redis, signal)
        await final_order(mongo_db, redis, signal.signal_id)
        held = await _sim_balances(http, sim)

        async def followed() -> bool:
            return (sync.balances.free("USDT"), sync.balances.free("BTC")) == (held["USDT"], held["BTC"])

        # assert
        await eventually(followed, "the trader's balances equal to the simulator's after the fill")
        assert sync.reconciler.rounds == rounds  # the stream's outboundAccountPosition did it, not a snapshot
    assert held["BTC"] == Decimal(1) + Decimal("0.01") - Decimal("0.00001")


async def test_an_order_is_refused_while_the_balances_cannot_be_current(
    trader_settings: TraderSettings,
    redis: aioredis.Redis,
    mongo_db: AsyncDatabase[Document],
    sim: RunningSimulator,
    http: httpx.AsyncClient,
) -> None:
    # arrange: the stream is cut and no account snapshot can be taken after it reconnects
    signal = buy("0.01")
    unknown = metric_value("trader_signals_rejected_total", reason="balance unknown")
    async with binance_trader(binance_settings(trader_settings, sim), http, sim) as service:
        sync = _sync(service.sync)
        await sim_control(http, sim, "fail", target="any", count=1000, mode="before", status=503)
        await sim_control(http, sim, "disconnect")

        async def stale() -> bool:
            return sync.balances.free("USDT") is None

        await eventually(stale, "the balances untrusted once the stream was cut")
        # act
        await publish_signal(redis, signal)
        order = await final_order(mongo_db, redis, signal.signal_id)
        await sim_control(http, sim, "reset")
    # assert
    assert (order["status"], order["reject_reason"]) == ("REJECTED", "balance unknown")
    assert await sim_orders(http, sim, signal.signal_id) == []
    assert metric_value("trader_signals_rejected_total", reason="balance unknown") == unknown + 1
