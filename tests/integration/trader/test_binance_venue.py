"""The trader on the Binance venue, against the exchange simulator: one order per signal, always.

Each test checks the simulator's own records (``/_sim/trading/state``): exactly one order per
client order id, and MongoDB's fills equal to the simulator's trades.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from pymongo.asynchronous.database import AsyncDatabase

from algo_common.domain.ids import fill_id
from algo_common.domain.models import Side
from algo_common.mongo import Document
from exchange_sim import RunningSimulator
from tests.binance_doc_keys import DOC_EXAMPLE_API_KEY, DOC_EXAMPLE_SECRET
from tests.integration.trader.binance_harness import (
    binance_settings,
    binance_sim,
    binance_trader,
    buy,
    final_order,
    sim_control,
    sim_orders,
    sim_trades,
)
from tests.integration.trader.trader_harness import make_signal, pending_count, publish_signal
from tests.support import eventually, metric_value
from trader.settings import TraderSettings


async def _assert_one_order_matching_mongo(
    http: httpx.AsyncClient, sim: RunningSimulator, db: AsyncDatabase[Document], order: Document
) -> dict[str, Any]:
    """Exactly one simulator order for the id; MongoDB's fills are its trades, one for one."""
    at_sim = await sim_orders(http, sim, order["_id"])
    assert len(at_sim) == 1, at_sim
    trades = await sim_trades(http, sim, at_sim[0]["orderId"])
    fills = [f async for f in db.fills.find({"client_order_id": order["_id"]}).sort("_id")]
    expected = sorted(
        ((fill_id(order["_id"], t["id"]), Decimal(t["price"]), Decimal(t["qty"])) for t in trades),
    )
    assert sorted((f["_id"], f["price"], f["qty"]) for f in fills) == expected
    assert order["filled_qty"] == Decimal(at_sim[0]["executedQty"])
    assert order["cum_quote"] == Decimal(at_sim[0]["cummulativeQuoteQty"])
    return at_sim[0]


async def test_a_signal_becomes_one_filled_order_with_the_simulators_fills(
    trader_settings: TraderSettings,
    redis: aioredis.Redis,
    mongo_db: AsyncDatabase[Document],
    sim: RunningSimulator,
    http: httpx.AsyncClient,
) -> None:
    # arrange
    signal = buy("0.0123456")  # rounded down to the step 0.00001
    async with binance_trader(binance_settings(trader_settings, sim), http, sim):
        # act
        await publish_signal(redis, signal)
        order = await final_order(mongo_db, redis, signal.signal_id)
    # assert
    assert order["status"] == "FILLED"
    at_sim = await _assert_one_order_matching_mongo(http, sim, mongo_db, order)
    assert Decimal(at_sim["origQty"]) == Decimal("0.01234")
    assert order["venue"] == "binance"
    commission = sum((Decimal(t["commission"]) for t in await sim_trades(http, sim, at_sim["orderId"])), Decimal(0))
    assert commission == Decimal("0.00001234")  # 0.1 % of the BTC bought, charged in BTC
    assert order["commissions"] == {"BTC": commission}
    assert order["fee"] == 0  # nothing charged in USDT
    position = await mongo_db.positions.find_one({"_id": "binance:BTCUSDT"})
    assert position is not None
    assert position["qty"] == Decimal("0.01234") - commission  # what the account received
    assert position["cost_basis"] == order["cum_quote"]  # what it paid
    assert position["fees"] == 0


@pytest.mark.parametrize(
    ("fault", "adopted"),
    [
        pytest.param({"mode": "before", "status": 503}, False, id="5xx-before-acceptance"),
        pytest.param({"mode": "after", "status": 502, "lost_as": "error"}, True, id="5xx-after-acceptance"),
        pytest.param({"mode": "after", "lost_as": "timeout", "hold_s": 5.0}, True, id="timeout-after-acceptance"),
        pytest.param({"mode": "after", "lost_as": "close"}, True, id="connection-dropped-after-acceptance"),
    ],
)
async def test_an_unknown_outcome_is_queried_and_never_doubles_the_order(
    trader_settings: TraderSettings,
    redis: aioredis.Redis,
    mongo_db: AsyncDatabase[Document],
    sim: RunningSimulator,
    http: httpx.AsyncClient,
    fault: dict[str, Any],
    adopted: bool,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # arrange
    signal = buy()
    async with binance_trader(binance_settings(trader_settings, sim), http, sim):
        await sim_control(http, sim, "fail", target="new_order", count=1, **fault)
        # act
        await publish_signal(redis, signal)
        order = await final_order(mongo_db, redis, signal.signal_id)
    # assert
    assert order["status"] == "FILLED"
    await _assert_one_order_matching_mongo(http, sim, mongo_db, order)
    log = capsys.readouterr().out
    assert ("order found after a failed send; adopting it" in log) is adopted  # the query found it...
    assert ("order never reached Binance; sending it again with the same id" in log) is not adopted  # ...or not
    assert ("waiting out the recvWindow" in log) is not adopted  # resent only once the first copy cannot execute
    assert (
        metric_value("trader_binance_request_errors_total", kind="5xx")
        + metric_value("trader_binance_request_errors_total", kind="timeout")
        + metric_value("trader_binance_request_errors_total", kind="connection")
        > 0
    )


async def test_a_skewed_clock_is_resynced_on_1021_and_the_order_sent_once(
    trader_settings: TraderSettings,
    redis: aioredis.Redis,
    mongo_db: AsyncDatabase[Document],
    sim: RunningSimulator,
    http: httpx.AsyncClient,
) -> None:
    # arrange
    signal = buy()
    clock_errors = metric_value("trader_binance_request_errors_total", kind="clock")
    async with binance_trader(binance_settings(trader_settings, sim), http, sim):
        await sim_control(http, sim, "clock", skew_ms=-30_000)  # the server is now 30 s behind our offset
        # act
        await publish_signal(redis, signal)
        order = await final_order(mongo_db, redis, signal.signal_id)
    # assert
    assert order["status"] == "FILLED"
    await _assert_one_order_matching_mongo(http, sim, mongo_db, order)
    assert metric_value("trader_binance_request_errors_total", kind="clock") > clock_errors


@pytest.mark.parametrize("status", [429, 418])
async def test_rate_limits_hold_the_signal_then_send_it_once(
    trader_settings: TraderSettings,
    redis: aioredis.Redis,
    mongo_db: AsyncDatabase[Document],
    sim: RunningSimulator,
    http: httpx.AsyncClient,
    status: int,
) -> None:
    # arrange
    signal = buy()
    limited = metric_value("trader_binance_rate_limited_total", status=str(status))
    async with binance_trader(binance_settings(trader_settings, sim, binance_max_wait_s=0.1), http, sim) as service:
        await sim_control(http, sim, "rate-limit", count=1, status=status, retry_after_s=1)
        # act
        await publish_signal(redis, signal)

        async def unready_with_the_signal_pending() -> bool:
            ready, _ = await service.health.readiness()
            return not ready and await pending_count(redis) == 1

        await eventually(unready_with_the_signal_pending, "the trader unready while Binance says stop")
        order = await final_order(mongo_db, redis, signal.signal_id)
    # assert
    assert order["status"] == "FILLED"
    await _assert_one_order_matching_mongo(http, sim, mongo_db, order)
    assert metric_value("trader_binance_rate_limited_total", status=str(status)) == limited + 1
    assert metric_value("trader_dependency_errors_total", dependency="venue") >= 1


async def test_an_order_breaking_a_filter_is_rejected_and_never_sent(
    trader_settings: TraderSettings,
    redis: aioredis.Redis,
    mongo_db: AsyncDatabase[Document],
    sim: RunningSimulator,
    http: httpx.AsyncClient,
) -> None:
    # arrange
    signal = buy("0.0001")  # 3 USDT: below NOTIONAL minNotional 5
    async with binance_trader(binance_settings(trader_settings, sim), http, sim):
        # act
        await publish_signal(redis, signal)
        order = await final_order(mongo_db, redis, signal.signal_id)
    # assert
    assert order["status"] == "REJECTED"
    assert "NOTIONAL" in order["reject_reason"]
    assert await sim_orders(http, sim, signal.signal_id) == []


async def test_selling_the_whole_position_sells_what_the_account_really_holds(
    trader_settings: TraderSettings,
    redis: aioredis.Redis,
    mongo_db: AsyncDatabase[Document],
    sim: RunningSimulator,
    http: httpx.AsyncClient,
) -> None:
    # arrange: no BTC but what the trader buys (its commission is paid in BTC)
    keys = [{"api_key": DOC_EXAMPLE_API_KEY, "secret": DOC_EXAMPLE_SECRET}]
    await sim_control(http, sim, "accounts", name="default", balances={"USDT": "100000"}, keys=keys)
    bought, sold = buy("0.01", bar=60_000), make_signal(Side.SELL, "30000", "0.01", bar_close_time=120_000)
    async with binance_trader(binance_settings(trader_settings, sim), http, sim):
        # act
        await publish_signal(redis, bought)
        await final_order(mongo_db, redis, bought.signal_id)
        await publish_signal(redis, sold)
        sell = await final_order(mongo_db, redis, sold.signal_id)
    # assert
    assert sell["status"] == "FILLED"
    assert sell["quantity"] == Decimal("0.00999")  # the risk check cut the SELL to the position
    at_sim = await _assert_one_order_matching_mongo(http, sim, mongo_db, sell)
    assert Decimal(at_sim["executedQty"]) == Decimal("0.00999")  # 0.01 less the 0.00001 BTC commission
    position = await mongo_db.positions.find_one({"_id": "binance:BTCUSDT"})
    assert position is not None
    assert (position["qty"], position["cost_basis"]) == (0, 0)
    buy_order = await mongo_db.orders.find_one({"_id": bought.signal_id})
    assert buy_order is not None
    assert position["realized_pnl"] == sell["cum_quote"] - buy_order["cum_quote"]  # exact: received - paid
    assert position["fees"] == sell["fee"] > 0  # the SELL's USDT commission, counted once


async def test_the_order_count_limit_is_respected_before_binance_has_to_refuse(
    trader_settings: TraderSettings, redis: aioredis.Redis, mongo_db: AsyncDatabase[Document], http: httpx.AsyncClient
) -> None:
    # arrange: 2 orders per 10 s; the third signal must wait for the next window, not get a 429
    signals = [buy(bar=60_000 * n) for n in (1, 2, 3)]
    refused = metric_value("trader_binance_rate_limited_total", status="429")
    async with binance_sim(trading_orders_per_10s=2) as sim:
        async with binance_trader(binance_settings(trader_settings, sim), http, sim):
            # act
            for signal in signals:
                await publish_signal(redis, signal)
            orders = [await final_order(mongo_db, redis, s.signal_id) for s in signals]
        # assert
        for order in orders:
            assert order["status"] == "FILLED"
            await _assert_one_order_matching_mongo(http, sim, mongo_db, order)
    assert metric_value("trader_binance_rate_limited_total", status="429") == refused
