"""Warm-up on a multi-minute interval: history window cut at a bar, an unfinished bar completed live."""

from __future__ import annotations

from decimal import Decimal

from algo_common.domain.models import Side
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

BAR = 3 * MINUTE
B0 = T0 - T0 % BAR  # a 3m bar boundary


async def test_an_unfinished_bar_in_history_is_completed_live_and_signals(
    run_processor: RunProcessor, collector: Collector, observer: Observer
) -> None:
    # arrange: 3m bars b0..b3 complete at 10, and the first two minutes of b4, all stored before the first start;
    # SMA(1)/SMA(2) needs 3 bars of history = 9 klines: the newest 9 begin inside b1, so b1 is skipped
    b4 = B0 + 4 * BAR
    await collector.store([minute_kline(B0 + m * MINUTE, "10") for m in range(14)])
    # act: "now" is inside b4, so b4 is not yet closed; its last minute then arrives live at 20
    async with run_processor(interval="3m", fast_period=1, slow_period=2, clock=lambda: b4 + 150_000):
        checkpoint_after_warmup = await observer.checkpoint(interval="3m")
        no_signal_yet = await observer.signal_docs()
        await collector.emit([minute_kline(b4 + 2 * MINUTE, "20")])

        async def reached() -> bool:
            return await observer.checkpoint(interval="3m") == b4 + BAR - 1

        await eventually(reached, "checkpoint at b4", timeout_s=WAIT_S)
        await observer.wait_drained()
        docs = await observer.signal_docs()
        published = await observer.stream_signals()
    # assert
    assert checkpoint_after_warmup == b4 - 1
    assert no_signal_yet == []
    assert len(docs) == len(published) == 1
    sig = published[0]
    assert (sig.side, sig.interval, sig.bar_open_time, sig.bar_close_time) == (Side.BUY, "3m", b4, b4 + BAR - 1)
    assert (sig.price, sig.indicators) == (Decimal(20), {"fast": Decimal(20), "slow": Decimal(15)})
    assert sig.ts_decision == b4 + 150_000
