"""ema_rsi across restarts: the strategy state saved with the checkpoint makes a restart exact.

An EMA remembers every price it was fed, so a restarted processor that rebuilt it from a window of
history would carry a different seed (and different indicator values, possibly other decisions).
Here history is much longer than the warm-up window, the processor stops twice (once while bars
keep arriving), and the signals must equal, to the last digit, those of one uninterrupted run.
"""

from __future__ import annotations

import random
from decimal import Decimal

from pymongo.asynchronous.database import AsyncDatabase

from algo_common.domain.models import Kline
from algo_common.mongo import Document
from processor.signals import to_signal
from processor.store import checkpoint_key
from processor.strategies.ema_rsi import EmaRsi
from tests.integration.processor.processor_harness import (
    MINUTE,
    T0,
    WAIT_S,
    Collector,
    Observer,
    RunProcessor,
    minute_kline,
)
from tests.support import eventually

BARS = 180
KEY = checkpoint_key("ema_rsi", "BTCUSDT", "1m")
SETTINGS = {"strategy": "ema_rsi", "fast_period": 3, "slow_period": 8, "rsi_period": 4, "rsi_overbought": Decimal(70)}


def walk() -> list[Kline]:
    rng = random.Random(11)
    price, bars = Decimal(100), []
    for i in range(BARS):
        price += Decimal(rng.randint(-250, 250)) / 100
        bars.append(minute_kline(T0 + i * MINUTE, str(price)))
    return bars


async def wait_checkpoint(db: AsyncDatabase[Document], bar: Kline) -> None:
    async def reached() -> bool:
        doc = await db.processor_state.find_one({"_id": KEY})
        return doc is not None and doc["last_bar_close_time"] == bar.close_time

    await eventually(reached, f"checkpoint at {bar.close_time}", timeout_s=WAIT_S)


async def test_restarts_give_exactly_the_signals_of_an_uninterrupted_run(
    run_processor: RunProcessor, collector: Collector, observer: Observer, mongo_db: AsyncDatabase[Document]
) -> None:
    # arrange: what one processor that never stopped signals (it started before the first bar)
    bars = walk()
    strategy = EmaRsi(3, 8, 4, Decimal(70))
    assert strategy.warmup_bars < 70  # the history below is longer than a warm-up window
    expected = [
        to_signal(strategy, decision, bar, Decimal("0.001"), 0)
        for bar in bars
        if (decision := strategy.on_bar(bar)) is not None
    ]
    # act: run, stop, bars arrive while it is down, run again, stop, run again
    async with run_processor(**SETTINGS):
        await collector.emit(bars[:100])
        await wait_checkpoint(mongo_db, bars[99])
    await collector.store(bars[100:130])
    async with run_processor(**SETTINGS):
        await wait_checkpoint(mongo_db, bars[129])
        await collector.publish(bars[100:130])  # the stream copies, late
        await observer.wait_drained()
    async with run_processor(**SETTINGS):
        await collector.emit(bars[130:])
        await wait_checkpoint(mongo_db, bars[-1])
        await observer.wait_drained()
    # assert
    docs = await observer.signal_docs()
    published = await observer.stream_signals()
    assert len(expected) >= 6
    assert [d["_id"] for d in docs] == [s.signal_id for s in expected]
    assert [(d["side"], d["price"], d["bar_close_time"]) for d in docs] == [
        (s.side.value, s.price, s.bar_close_time) for s in expected
    ]
    assert [d["indicators"] for d in docs] == [dict(s.indicators) for s in expected]
    assert sorted(s.signal_id for s in published) == sorted(s.signal_id for s in expected)
    assert any(s.bar_close_time > bars[99].close_time for s in expected[:-1])  # signals after the first restart
