"""The live processor runs ema_rsi (PROCESSOR_STRATEGY=ema_rsi): signals with the RSI, equal to an offline replay."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal

import redis.asyncio as aioredis
from pymongo.asynchronous.database import AsyncDatabase

from algo_common.domain.ids import signal_id
from algo_common.domain.models import Kline, Side
from algo_common.mongo import Document
from algo_common.streams import EVENT_FIELD, encode_market_event, market_stream, publish_batch
from processor.service import ProcessorService
from processor.settings import ProcessorSettings
from processor.strategies.ema_rsi import EmaRsi

MINUTE = 60_000
T0 = 1_700_000_040_000  # a minute boundary
TIMEOUT_S = 45.0
# EMA(2)/EMA(3)/RSI(2): SELL at bar 3, BUY at bar 5 (RSI exactly 90), SELL at bar 7 (see the unit tests).
PATH = ["10", "10", "10", "8", "9", "13", "11", "7"]
PARAMS = {"fast": "2", "slow": "3", "rsi": "2", "overbought": "95"}


def kline(i: int) -> Kline:
    price = Decimal(PATH[i])
    return Kline(
        symbol="BTCUSDT",
        interval="1m",
        open_time=T0 + i * MINUTE,
        close_time=T0 + (i + 1) * MINUTE - 1,
        open=price,
        high=price,
        low=price,
        close=price,
        volume=Decimal(1),
        quote_volume=price,
        trades=1,
        closed=True,
        ts_event=T0 + (i + 1) * MINUTE + 2,
        ts_recv=T0 + (i + 1) * MINUTE + 5,
    )


async def wait_until(condition: Callable[[], Awaitable[bool]], what: str) -> None:
    """Poll ``condition`` until it holds or fail after TIMEOUT_S."""
    deadline = time.monotonic() + TIMEOUT_S
    while not await condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def test_the_processor_signals_ema_rsi_decisions_exactly_like_an_offline_replay(
    redis: aioredis.Redis, redis_url: str, mongo_uri: str, db_name: str, mongo_db: AsyncDatabase[Document]
) -> None:
    # arrange
    settings = ProcessorSettings(
        redis_url=redis_url, mongo_uri=mongo_uri, mongo_db=db_name, symbols=("BTCUSDT",), interval="1m",
        strategy="ema_rsi", fast_period=2, slow_period=3, rsi_period=2, rsi_overbought=Decimal(95),
        http_port=0, consumer_name="ema-rsi-test", block_ms=50, retry_base_s=0.05, retry_cap_s=0.5, backfill=False,
    )  # fmt: skip
    service = ProcessorService.from_settings(settings)
    stop = asyncio.Event()
    task = asyncio.create_task(service.main(stop))
    replay = EmaRsi(2, 3, 2, Decimal(95))
    expected = [(i, d.side) for i, d in ((i, replay.on_bar(kline(i))) for i in range(len(PATH))) if d is not None]
    try:
        await wait_until(lambda: _ready(service), "processor ready")
        # act
        events = [(market_stream("BTCUSDT"), {EVENT_FIELD: encode_market_event(kline(i))}) for i in range(len(PATH))]
        await publish_batch(redis, events, 10_000)
        await wait_until(lambda: _count(mongo_db, len(expected)), f"{len(expected)} signals")
        docs = await mongo_db.trade_signals.find({}).sort("bar_close_time", 1).to_list()
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
        await service.aclose()
    # assert: the offline replay's decisions, stored with the strategy's identity and the RSI
    assert expected == [(3, Side.SELL), (5, Side.BUY), (7, Side.SELL)]
    assert [(d["bar_close_time"], d["side"]) for d in docs] == [(kline(i).close_time, s.value) for i, s in expected]
    buy = docs[1]
    assert buy["_id"] == signal_id("ema_rsi", PARAMS, "BTCUSDT", "1m", kline(5).close_time)
    assert (buy["strategy"], buy["params"]) == ("ema_rsi", PARAMS)
    assert buy["indicators"]["rsi"] == Decimal(90)
    assert set(buy["indicators"]) == {"fast", "slow", "rsi"}


async def _ready(service: ProcessorService) -> bool:
    ready, _ = await service.health.readiness()
    return ready


async def _count(db: AsyncDatabase[Document], n: int) -> bool:
    return await db.trade_signals.count_documents({}) >= n
