"""A seeded run of many signals through a trader killed at least 20 times at random steps.

Each round starts a trader process that dies: either at a failpoint (step and hit drawn from the
seed; the process exits 137 as a SIGKILL would) or by a real SIGKILL from this test once it has
made progress (anywhere in the pipeline). Consumers alternate between two names, so recovery goes
through both re-reading one's own pending entries and XAUTOCLAIM. A clean trader finishes the
rest. In the end: one order per signal, every sent order equal to the venue's record, nothing
pending, and position, fees and P&L equal to what the venue's fills imply, to the last digit.

All BUYs fill at the same price (one book top for the whole run), so the average entry price
stays exact and the expected realized P&L does not depend on the order executions happened in.

Venues: the paper venue, and the Binance venue on the exchange simulator (its record read from
``GET /_sim/trading/state``). :func:`run_with_kills` is venue-independent: the venue comes from
the trader's environment, its record from a ``crash_checks.VenueView``.
"""

from __future__ import annotations

import asyncio
import random
import signal as os_signal
import subprocess
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis
from pymongo.asynchronous.database import AsyncDatabase

from algo_common.domain.models import BookTop, Side, Signal
from algo_common.mongo import Document
from algo_common.streams import EVENT_FIELD, encode_market_event, market_stream
from algo_trade.servers import free_port
from tests.binance_doc_keys import DOC_EXAMPLE_API_KEY, DOC_EXAMPLE_SECRET
from tests.integration.trader.binance_harness import SIM_PRICE, binance_sim
from tests.integration.trader.crash_checks import PaperView, SimulatorView, VenueView, assert_consistent
from tests.integration.trader.trader_harness import (
    FINAL,
    group_drained,
    make_signal,
    process_env,
    publish_signal,
    start_trader_process,
    stop_process,
)
from tests.support import WAIT_S, eventually

SEED = 20261125
SIGNALS = 60
MIN_KILLS = 20
MIN_EXECUTED = 20
"""Orders of the run that must have executed at the venue (the rest: risk rejections)."""
MAX_ROUNDS = 60
ROUND_WAIT_S = 150.0
"""Longest wait for one trader life: a trader killed inside a transaction leaves it open until the
server reaps it (``transactionLifetimeLimitSeconds``, 60 s in MongoDB and SecantusDB), and the next
trader's writes to the same documents conflict until then."""
STEPS = ["after_read", "after_intent", "after_send", "after_ack", "after_outcome", "before_ack"]
SLIPPAGE_BPS = Decimal("5")
TOP = BookTop(
    symbol="BTCUSDT",
    update_id=1,
    bid_price=Decimal("99.90"),
    bid_qty=Decimal("0.05"),
    ask_price=Decimal("100.10"),
    ask_qty=Decimal("0.05"),
    ts_event=1,
    ts_recv=1,
)
BUY_PRICE = TOP.ask_price * (1 + SLIPPAGE_BPS / 10_000)
SELL_PRICE = TOP.bid_price * (1 - SLIPPAGE_BPS / 10_000)


def _signals(rng: random.Random, price: str) -> list[Signal]:
    quantities = ["0.01", "0.02", "0.03", "0.07"]  # paper: 0.07 exceeds the top level: partial fill, EXPIRED
    return [
        make_signal(
            Side.BUY if rng.random() < 0.6 else Side.SELL,
            price,
            rng.choice(quantities),
            bar_close_time=60_000 * (n + 1),
        )
        for n in range(SIGNALS)
    ]


def _tail(log: Path) -> str:
    return log.read_text()[-3000:]


async def _final_orders(db: AsyncDatabase[Document]) -> int:
    return await db.orders.count_documents({"status": {"$in": FINAL}})


async def _exit_or_drained(process: subprocess.Popen[bytes], redis: aioredis.Redis) -> bool:
    """True when the process died; False when it finished every signal without reaching its failpoint."""

    async def over() -> bool:
        return process.poll() is not None or await group_drained(redis)

    await eventually(over, "the trader to die or to drain the stream", timeout_s=ROUND_WAIT_S)
    return process.poll() is not None


async def _round(
    rng: random.Random,
    env_base: dict[str, str],
    log: Path,
    redis: aioredis.Redis,
    db: AsyncDatabase[Document],
    started: list[subprocess.Popen[bytes]],
    steps: list[str],
) -> bool:
    """One trader life that ends in a kill; False when the signals ran out first."""
    consumer = rng.choice(["trader-a", "trader-b"])
    env = {**env_base, "TRADER_CONSUMER_NAME": consumer, "TRADER_HTTP_PORT": str(free_port())}
    if rng.random() < 0.25:  # a real SIGKILL, anywhere, once the process has made progress
        before = await _final_orders(db)
        process = start_trader_process(env, log)
        started.append(process)

        async def progressed() -> bool:
            return await _final_orders(db) > before or await group_drained(redis) or process.poll() is not None

        await eventually(progressed, "the trader to make progress", timeout_s=ROUND_WAIT_S)
        if process.poll() is not None or await group_drained(redis):
            return await stop_process(process) != 0
        process.send_signal(os_signal.SIGKILL)
        await asyncio.to_thread(process.wait, WAIT_S)
        return True
    env.update({"TRADER_FAILPOINT": rng.choice(steps), "TRADER_FAILPOINT_HIT": str(rng.randint(1, 3))})
    process = start_trader_process(env, log)
    started.append(process)
    if await _exit_or_drained(process, redis):
        assert process.returncode == 137, _tail(log)
        return True
    assert await stop_process(process) == 0, _tail(log)
    return False


async def run_with_kills(
    signals: list[Signal],
    rng: random.Random,
    redis: aioredis.Redis,
    mongo_db: AsyncDatabase[Document],
    env_base: dict[str, str],
    log: Path,
    steps: list[str],
) -> int:
    """Publish ``signals``, kill traders (``env_base`` picks the venue) until MIN_KILLS, let a survivor finish.

    The venue-independent part of the run, the hook for another venue: its test passes the
    venue's environment, then checks :func:`~tests.integration.trader.crash_checks.assert_consistent`
    with that venue's :class:`~tests.integration.trader.crash_checks.VenueView`. Returns the kills.
    """
    for signal in signals:
        await publish_signal(redis, signal)
    kills = 0
    started: list[subprocess.Popen[bytes]] = []
    try:
        for _ in range(MAX_ROUNDS):
            if kills >= MIN_KILLS or await group_drained(redis):
                break
            kills += await _round(rng, env_base, log, redis, mongo_db, started, steps)
            print(f"kills {kills}, final orders {await _final_orders(mongo_db)}")  # shown when the test fails
        assert kills >= MIN_KILLS, f"only {kills} kills before the signals ran out"
        survivor = start_trader_process({**env_base, "TRADER_CONSUMER_NAME": "trader-c"}, log)
        started.append(survivor)
        await eventually(lambda: group_drained(redis), "the survivor to finish every signal", timeout_s=ROUND_WAIT_S)
        assert await stop_process(survivor) == 0, _tail(log)
    finally:
        for process in started:  # a failed assertion leaves no trader behind
            if process.poll() is None:
                process.kill()
                await asyncio.to_thread(process.wait, WAIT_S)
    return kills


async def _assert_money_adds_up(view: VenueView, db: AsyncDatabase[Document], venue: str) -> list[Document]:
    """Position and daily P&L equal what the fills imply; the venue holds exactly what the position says
    (a commission charged in BTC is taken out of the position, as out of the account)."""
    fills = [doc async for doc in db.fills.find({})]
    bought = sum((f["qty"] for f in fills if f["side"] == "BUY"), Decimal(0))
    sold = sum((f["qty"] for f in fills if f["side"] == "SELL"), Decimal(0))
    assert sold > 0, "the run exercised sells"
    in_base = sum((f["fee"] for f in fills if f["fee_asset"] == "BTC"), Decimal(0))
    position = await db.positions.find_one({"_id": f"{venue}:BTCUSDT"})
    assert position is not None
    assert position["qty"] == bought - in_base - sold == await view.base_balance("BTCUSDT")
    assert position["fees"] == sum((f["fee"] for f in fills if f["fee_asset"] == "USDT"), Decimal(0))
    assert position["commissions"] == ({"BTC": in_base} if in_base else {})
    assert {f["fee_asset"] for f in fills if f["fee"]} <= {"BTC", "USDT"}
    days = [doc async for doc in db.daily_pnl.find({})]
    assert sum((d["realized_pnl"] for d in days), Decimal(0)) == position["realized_pnl"]
    assert sum((d["fees"] for d in days), Decimal(0)) == position["fees"]
    return fills


@pytest.mark.slow
@pytest.mark.timeout(900)
async def test_paper_trader_killed_20_times_at_random_ends_exact(
    redis: aioredis.Redis,
    redis_url: str,
    mongo_uri: str,
    db_name: str,
    mongo_db: AsyncDatabase[Document],
    tmp_path: Path,
) -> None:
    # arrange
    env = process_env(
        redis_url,
        mongo_uri,
        db_name,
        0,
        TRADER_CLAIM_IDLE_MS="300",
        TRADER_PAPER_SLIPPAGE_BPS=str(SLIPPAGE_BPS),
        TRADER_MAX_ORDERS_PER_MINUTE="0",
        TRADER_READ_COUNT="5",
    )
    rng = random.Random(SEED)
    signals = _signals(rng, "100")
    await redis.xadd(market_stream("BTCUSDT"), {EVENT_FIELD: encode_market_event(TOP)})
    # act
    kills = await run_with_kills(signals, rng, redis, mongo_db, env, tmp_path / "trader.log", STEPS)
    # assert
    assert kills >= MIN_KILLS
    view = PaperView(redis)
    orders = await assert_consistent(view, mongo_db, redis, {s.signal_id for s in signals})
    assert sum(1 for result in (await view.orders()).values() if result.fills) >= MIN_EXECUTED
    assert any(o["status"] == "EXPIRED" for o in orders.values()), "the run exercised partial fills"
    fills = await _assert_money_adds_up(view, mongo_db, "paper")
    assert {f["price"] for f in fills if f["side"] == "BUY"} == {BUY_PRICE}
    assert {f["price"] for f in fills if f["side"] == "SELL"} == {SELL_PRICE}
    position = await mongo_db.positions.find_one({"_id": "paper:BTCUSDT"})
    assert position is not None
    sold = sum((f["qty"] for f in fills if f["side"] == "SELL"), Decimal(0))
    assert position["realized_pnl"] == sold * (SELL_PRICE - BUY_PRICE)


@pytest.mark.slow
@pytest.mark.timeout(900)
async def test_binance_venue_trader_killed_20_times_at_random_matches_the_simulator(
    redis: aioredis.Redis,
    redis_url: str,
    mongo_uri: str,
    db_name: str,
    mongo_db: AsyncDatabase[Document],
    tmp_path: Path,
) -> None:
    # arrange: the Binance venue on the exchange simulator (the venue never triggers after_send)
    rng = random.Random(SEED + 1)
    signals = _signals(rng, SIM_PRICE)
    async with binance_sim() as sim, httpx.AsyncClient(timeout=5.0) as http:
        env = process_env(
            redis_url,
            mongo_uri,
            db_name,
            0,
            TRADER_CLAIM_IDLE_MS="300",
            TRADER_MAX_ORDERS_PER_MINUTE="0",
            TRADER_READ_COUNT="5",
            TRADER_STARTING_BALANCE="100000",
            TRADER_VENUE="binance",
            TRADER_BINANCE_API_KEY=DOC_EXAMPLE_API_KEY,
            TRADER_BINANCE_API_SECRET=DOC_EXAMPLE_SECRET,
            TRADER_BINANCE_REST_URL=sim.rest_url,
            TRADER_BINANCE_WS_API_URL=f"{sim.ws_url}/ws-api/v3",
            TRADER_BINANCE_TIMEOUT_S="1.0",
            TRADER_BINANCE_RECV_WINDOW_MS="1000",
            TRADER_BINANCE_RECONNECT_BASE_S="0.05",
            TRADER_BINANCE_RECONNECT_CAP_S="0.2",
        )
        # act
        steps = [step for step in STEPS if step != "after_send"]
        kills = await run_with_kills(signals, rng, redis, mongo_db, env, tmp_path / "trader.log", steps)
        # assert
        assert kills >= MIN_KILLS
        view = SimulatorView(http, sim.control_url)
        await assert_consistent(view, mongo_db, redis, {s.signal_id for s in signals})
        assert sum(1 for result in (await view.orders()).values() if result.fills) >= MIN_EXECUTED
        fills = await _assert_money_adds_up(view, mongo_db, "binance")
        assert any(f["fee_asset"] == "BTC" and f["fee"] for f in fills), "the run exercised commissions in BTC"
