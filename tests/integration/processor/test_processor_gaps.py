"""A kline the stream skipped but MongoDB holds is read from MongoDB, so no bar (and no signal) is lost.

This is what happens when a replica that had just lost a symbol's lease read an entry it could not
act on, or when ``MAXLEN`` trimmed an entry before it was read.
"""

from __future__ import annotations

from tests.integration.processor.processor_harness import (
    BUY_AT_5,
    SELL_AT_8,
    Collector,
    Observer,
    RunProcessor,
    assert_signals,
    klines,
)
from tests.support import metric_value


async def test_a_minute_missing_from_the_stream_is_read_from_mongodb(
    run_processor: RunProcessor, collector: Collector, observer: Observer
) -> None:
    before = metric_value("processor_gap_klines_total", symbol="BTCUSDT")
    async with run_processor():
        # arrange: every minute is in MongoDB, but bar 5 (the crossing) never reaches the stream
        await collector.store(klines(range(10)))
        # act
        await collector.publish(klines([*range(5), *range(6, 10)]))
        await observer.wait_checkpoint(9)
        await observer.wait_drained()
        # assert
        assert_signals(await observer.signal_docs(), await observer.stream_signals(), [BUY_AT_5, SELL_AT_8])
        assert metric_value("processor_gap_klines_total", symbol="BTCUSDT") == before + 1
