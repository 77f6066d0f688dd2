"""Market stream -> exactly one signal per crossing, in MongoDB and on the stream, whatever is replayed."""

from __future__ import annotations

from decimal import Decimal

import msgspec

from algo_common.domain.models import Trade
from algo_common.streams import encode_market_event
from tests.integration.processor.processor_harness import (
    BUY_AT_5,
    SELL_AT_8,
    Collector,
    Observer,
    RunProcessor,
    assert_signals,
    klines,
    path_kline,
)
from tests.support import metric_value


def _trade(i: int) -> Trade:
    return Trade(
        symbol="BTCUSDT",
        trade_id=i,
        price=Decimal("100.5"),
        qty=Decimal("0.01"),
        buyer_is_maker=False,
        ts_trade=path_kline(i).open_time + 1,
        ts_event=path_kline(i).open_time + 2,
        ts_recv=path_kline(i).open_time + 3,
    )


async def test_one_up_and_one_down_crossing_give_exactly_two_signals(
    run_processor: RunProcessor, collector: Collector, observer: Observer
) -> None:
    # arrange: per minute an unclosed update with a wild price, a trade, then the closed kline
    async with run_processor():
        for i in range(10):
            unclosed = path_kline(i, closed=False)
            await collector.publish([msgspec.structs.replace(unclosed, close=Decimal(999))])
            await collector.publish_raw({b"event": encode_market_event(_trade(i))})
            await collector.emit([path_kline(i)])
        # act
        await observer.wait_checkpoint(9)
        await observer.wait_drained()
        # assert
        assert_signals(await observer.signal_docs(), await observer.stream_signals(), [BUY_AT_5, SELL_AT_8])


async def test_replayed_market_events_produce_no_second_signal(
    run_processor: RunProcessor, collector: Collector, observer: Observer
) -> None:
    # arrange
    async with run_processor():
        await collector.emit(klines(range(10)))
        await observer.wait_checkpoint(9)
        duplicates_before = metric_value("processor_events_dropped_total", reason="duplicate")
        # act: the collector (or a redelivery) publishes the same klines again
        await collector.publish(klines(range(10)))
        await observer.wait_drained()
        # assert
        assert_signals(await observer.signal_docs(), await observer.stream_signals(), [BUY_AT_5, SELL_AT_8])
        assert metric_value("processor_events_dropped_total", reason="duplicate") - duplicates_before == 10


async def test_a_restarted_processor_emits_no_new_signal(
    run_processor: RunProcessor, collector: Collector, observer: Observer
) -> None:
    # arrange
    async with run_processor():
        await collector.emit(klines(range(10)))
        await observer.wait_checkpoint(9)
        await observer.wait_drained()
    # act: a new instance, same database and consumer name, and the stream replayed once more
    async with run_processor() as restarted:
        await collector.publish(klines(range(10)))
        await observer.wait_drained()
        # assert
        assert restarted.health.is_live()
        assert_signals(await observer.signal_docs(), await observer.stream_signals(), [BUY_AT_5, SELL_AT_8])
        assert await observer.checkpoint() == path_kline(9).close_time


async def test_a_malformed_entry_is_counted_acked_and_skipped(
    run_processor: RunProcessor, collector: Collector, observer: Observer
) -> None:
    # arrange
    malformed_before = metric_value("processor_events_dropped_total", reason="malformed")
    missing_before = metric_value("processor_events_dropped_total", reason="missing_field")
    async with run_processor():
        # act: garbage between good klines
        await collector.emit(klines(range(5)))
        await collector.publish_raw({b"event": b'{"type": "kline", "symbol": "BTCUSDT", "close": "oops"}'})
        await collector.publish_raw({b"not-event": b"x"})
        await collector.emit(klines(range(5, 10)))
        await observer.wait_checkpoint(9)
        await observer.wait_drained()
        # assert
        assert metric_value("processor_events_dropped_total", reason="malformed") - malformed_before == 1
        assert metric_value("processor_events_dropped_total", reason="missing_field") - missing_before == 1
        assert_signals(await observer.signal_docs(), await observer.stream_signals(), [BUY_AT_5, SELL_AT_8])


async def test_each_symbol_has_its_own_bars_signals_and_checkpoint(
    run_processor: RunProcessor, collector: Collector, observer: Observer
) -> None:
    # arrange
    async with run_processor(symbols=("BTCUSDT", "ETHUSDT")):
        # act: the two streams interleaved; ETHUSDT is one bar behind
        for i in range(10):
            await collector.emit(
                [path_kline(i, symbol="BTCUSDT")] + ([path_kline(i - 1, symbol="ETHUSDT")] if i else [])
            )
        await collector.emit([path_kline(9, symbol="ETHUSDT")])
        await observer.wait_checkpoint(9, "BTCUSDT")
        await observer.wait_checkpoint(9, "ETHUSDT")
        # assert
        docs = await observer.signal_docs()
        published = await observer.stream_signals()
        assert sorted((d["symbol"], d["side"], d["bar_close_time"]) for d in docs) == sorted(
            (symbol, side, path_kline(i).close_time)
            for symbol in ("BTCUSDT", "ETHUSDT")
            for side, i in (("BUY", 5), ("SELL", 8))
        )
        assert len({s.signal_id for s in published}) == len(published) == 4
