"""Risk controls on real Redis + MongoDB: trading state, daily loss, order rate; every refusal stored and counted."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal

import pytest
import redis.asyncio as aioredis
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from algo_common.clock import now_ms
from algo_common.domain.models import Side, Signal
from algo_common.mongo import Document
from tests.integration.trader.trader_harness import (
    BUY,
    FINAL,
    SELL,
    group_drained,
    make_signal,
    process_env,
    publish_signal,
    running_trader,
)
from tests.support import eventually, metric_value
from trader.control import main as control_main
from trader.control import parse_args, run
from trader.ledger import Ledger
from trader.orders import intent_document
from trader.settings import TraderSettings
from trader.trading_state import STATE_KEY, StateRecord, TradingState, TradingStateStore


async def _finished(db: AsyncDatabase[Document], redis: aioredis.Redis, orders: int) -> None:
    async def done() -> bool:
        final = await db.orders.count_documents({"status": {"$in": FINAL}})
        return final == orders and await group_drained(redis)

    await eventually(done, f"{orders} final orders and a drained stream")


async def _statuses(db: AsyncDatabase[Document], *signals: Signal) -> list[tuple[str, str | None]]:
    result = []
    for signal in signals:
        order = await db.orders.find_one({"_id": signal.signal_id})
        assert order is not None
        result.append((order["status"], order["reject_reason"]))
    return result


def _buy(n: int, price: str = "100", qty: str = "0.01") -> Signal:
    return make_signal(Side.BUY, price, qty, bar_close_time=60_000 * (n + 10))


async def test_halted_refuses_every_new_order_stored_and_counted(
    trader_settings: TraderSettings, redis: aioredis.Redis, mongo_db: AsyncDatabase[Document]
) -> None:
    # arrange
    await TradingStateStore(redis).write(StateRecord(state=TradingState.HALTED, reason="test", by="ops"))
    halted = metric_value("trader_signals_rejected_total", reason="trading halted")
    # act
    async with running_trader(trader_settings):
        await publish_signal(redis, BUY)
        await _finished(mongo_db, redis, orders=1)
    # assert
    assert await _statuses(mongo_db, BUY) == [("REJECTED", "trading halted")]
    assert await redis.keys("paper:order:*") == []  # nothing reached the venue
    assert metric_value("trader_signals_rejected_total", reason="trading halted") == halted + 1
    assert metric_value("trader_trading_state") == 2


async def test_reducing_lets_sells_through_and_refuses_buys(
    trader_settings: TraderSettings, redis: aioredis.Redis, mongo_db: AsyncDatabase[Document]
) -> None:
    # arrange
    second_buy = _buy(1, "65000", "0.01")
    async with running_trader(trader_settings):
        await publish_signal(redis, BUY)
        await _finished(mongo_db, redis, orders=1)
        await TradingStateStore(redis).write(StateRecord(state=TradingState.REDUCING, reason="test"))
        # act
        await publish_signal(redis, second_buy)
        await publish_signal(redis, SELL)
        await _finished(mongo_db, redis, orders=3)
    # assert
    assert await _statuses(mongo_db, BUY, second_buy, SELL) == [
        ("FILLED", None),
        ("REJECTED", "trading reducing"),
        ("FILLED", None),
    ]


async def test_breached_daily_loss_halts_trading_from_the_next_message(
    trader_settings: TraderSettings, redis: aioredis.Redis, mongo_db: AsyncDatabase[Document]
) -> None:
    # arrange: buy 1 at 100, sell it at 90: a 10 USDT loss + fees reaches the 10 USDT limit
    settings = trader_settings.model_copy(update={"max_daily_loss": Decimal("10"), "read_count": 10})
    buy = make_signal(Side.BUY, "100", "1", bar_close_time=60_000)
    sell = make_signal(Side.SELL, "90", "1", bar_close_time=120_000)
    after = [_buy(n) for n in range(3)]
    # act: all in one stream read
    for signal in (buy, sell, *after):
        await publish_signal(redis, signal)
    async with running_trader(settings):
        await _finished(mongo_db, redis, orders=5)
    # assert
    assert await _statuses(mongo_db, buy, sell, *after) == [
        ("FILLED", None),
        ("FILLED", None),
        ("REJECTED", "max daily loss"),
        ("REJECTED", "trading halted"),
        ("REJECTED", "trading halted"),
    ]
    state = await TradingStateStore(redis).read()
    assert state.state is TradingState.HALTED
    assert "max daily loss 10 reached" in state.reason
    assert state.by == "trader-test"


async def test_orders_per_minute_are_limited_across_replicas(
    trader_settings: TraderSettings, redis: aioredis.Redis, mongo_db: AsyncDatabase[Document]
) -> None:
    # arrange
    one = trader_settings.model_copy(update={"max_orders_per_minute": 3, "read_count": 1})
    other = one.model_copy(update={"consumer_name": "trader-other"})
    signals = [_buy(n, "100", "0.001") for n in range(8)]
    # act
    async with running_trader(one), running_trader(other):
        for signal in signals:
            await publish_signal(redis, signal)
        await _finished(mongo_db, redis, orders=8)
    # assert
    assert await mongo_db.orders.count_documents({"status": "FILLED"}) == 3
    assert await mongo_db.orders.count_documents({"reject_reason": "max orders per minute"}) == 5
    assert len(await redis.keys("paper:order:*")) == 3


async def test_intent_left_unsent_is_not_sent_once_halted(
    trader_settings: TraderSettings,
    redis: aioredis.Redis,
    mongo_client: AsyncMongoClient[Document],
    mongo_db: AsyncDatabase[Document],
) -> None:
    # arrange: an intent recorded before the halt, its trader died before the venue call
    ledger = Ledger(mongo_client, mongo_db, "paper", "USDT")
    assert await ledger.insert_order(intent_document(BUY, BUY.quantity, "paper", "USDT", now_ms()))
    await TradingStateStore(redis).write(StateRecord(state=TradingState.HALTED, reason="test"))
    await publish_signal(redis, BUY)
    # act
    async with running_trader(trader_settings):
        await _finished(mongo_db, redis, orders=1)
    # assert
    assert await _statuses(mongo_db, BUY) == [("REJECTED", "trading halted")]
    assert await redis.keys("paper:order:*") == []


async def test_operator_command_sets_the_shared_state(redis: aioredis.Redis) -> None:
    # arrange
    store = TradingStateStore(redis)
    # act
    record = await run(parse_args(["halt", "--reason", "exchange incident", "--by", "alice"]), store)
    # assert
    assert (record.state, record.reason, record.by) == (TradingState.HALTED, "exchange incident", "alice")
    assert await redis.get(STATE_KEY) is not None
    assert (await run(parse_args(["status"]), store)).state is TradingState.HALTED


def test_operator_command_needs_a_reason() -> None:
    # act / assert: argparse exits with status 2
    with pytest.raises(SystemExit) as exited:
        control_main(["halt"])
    assert exited.value.code == 2


def test_operator_command_as_a_process(redis_url: str, mongo_uri: str) -> None:
    # act
    env = process_env(redis_url, mongo_uri, "unused", 0)
    done = subprocess.run(
        [sys.executable, "-m", "trader.control", "reducing", "--reason", "drill"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # assert
    assert done.returncode == 0, done.stderr
    assert "trading state: REDUCING (reason: drill" in done.stdout


async def test_idle_trader_reports_the_operators_state(trader_settings: TraderSettings, redis: aioredis.Redis) -> None:
    # arrange
    store = TradingStateStore(redis)
    await store.write(StateRecord(state=TradingState.ACTIVE))
    async with running_trader(trader_settings):

        async def gauge_is(value: float) -> bool:
            return metric_value("trader_trading_state") == value

        await eventually(lambda: gauge_is(0), "the gauge at ACTIVE")
        # act: no signal arrives
        await store.write(StateRecord(state=TradingState.REDUCING, reason="drill"))
        # assert
        await eventually(lambda: gauge_is(1), "the gauge at REDUCING without any signal")
