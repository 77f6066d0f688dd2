"""Bars from closed 1m klines: aligned to UTC, emitted once, never unfinished, replays ignored."""

from __future__ import annotations

from decimal import Decimal

import pytest

from processor.bars import BarBuilder
from processor.intervals import SUPPORTED_INTERVALS, bar_open_time, interval_ms
from tests.unit.processor.processor_builders import make_kline

MINUTE = 60_000
HOUR = 3_600_000
DAY = 86_400_000
T0 = 1_623_196_800_000  # 2021-06-09 00:00:00 UTC


def test_sixty_closed_minutes_make_one_hour_bar_with_correct_ohlcv() -> None:
    # arrange: prices 100..159, with a spike high in minute 10 and a dip low in minute 20
    minutes = [make_kline(T0 + i * MINUTE, str(100 + i), open=str(100 + i)) for i in range(60)]
    minutes[10] = make_kline(T0 + 10 * MINUTE, "110", open="110", high="500")
    minutes[20] = make_kline(T0 + 20 * MINUTE, "120", open="120", low="3")
    builder = BarBuilder("BTCUSDT", "1h")
    # act
    emitted = [bar for minute in minutes for bar in builder.on_kline(minute)]
    # assert
    assert len(emitted) == 1
    bar = emitted[0]
    assert (bar.interval, bar.open_time, bar.close_time) == ("1h", T0, T0 + HOUR - 1)
    assert (bar.open, bar.high, bar.low, bar.close) == (Decimal(100), Decimal(500), Decimal(3), Decimal(159))
    assert bar.volume == Decimal(60)
    assert bar.quote_volume == sum((m.quote_volume for m in minutes), Decimal(0))
    assert bar.trades == 60
    assert bar.closed
    assert (bar.ts_event, bar.ts_recv) == (minutes[-1].ts_event, minutes[-1].ts_recv)


def test_bar_is_not_emitted_before_its_last_minute_closes() -> None:
    # arrange
    builder = BarBuilder("BTCUSDT", "1h")
    # act
    emitted = [bar for i in range(59) for bar in builder.on_kline(make_kline(T0 + i * MINUTE, "1"))]
    # assert
    assert emitted == []


def test_missing_minutes_bar_is_emitted_when_a_later_bar_starts() -> None:
    # arrange: minutes 0..29 of the first hour only, then minute 5 of the next hour
    builder = BarBuilder("BTCUSDT", "1h")
    first_half = [make_kline(T0 + i * MINUTE, str(10 + i)) for i in range(30)]
    # act
    before = [bar for k in first_half for bar in builder.on_kline(k)]
    after = builder.on_kline(make_kline(T0 + HOUR + 5 * MINUTE, "99"))
    # assert
    assert before == []
    assert [(b.open_time, b.close_time, b.close, b.volume) for b in after] == [
        (T0, T0 + HOUR - 1, Decimal(39), Decimal(30))
    ]


def test_a_lone_last_minute_after_a_gap_emits_both_bars_in_order() -> None:
    # arrange
    builder = BarBuilder("BTCUSDT", "1h")
    builder.on_kline(make_kline(T0, "1"))
    # act: the next kline is the last minute of the next hour
    emitted = builder.on_kline(make_kline(T0 + 2 * HOUR - MINUTE, "2"))
    # assert
    assert [(b.open_time, b.close) for b in emitted] == [(T0, Decimal(1)), (T0 + HOUR, Decimal(2))]


def test_duplicates_and_replays_are_ignored() -> None:
    # arrange
    builder = BarBuilder("BTCUSDT", "1h")
    minutes = [make_kline(T0 + i * MINUTE, "1") for i in range(60)]
    first = [bar for k in minutes for bar in builder.on_kline(k)]
    # act
    replay = [bar for k in minutes for bar in builder.on_kline(k)]
    # assert
    assert len(first) == 1
    assert replay == []
    assert not builder.accepts(minutes[-1])


def test_unclosed_klines_are_ignored() -> None:
    # arrange: every minute first arrives unclosed with a wild price, then closed
    builder = BarBuilder("BTCUSDT", "1h")
    emitted = []
    # act
    for i in range(60):
        emitted += builder.on_kline(make_kline(T0 + i * MINUTE, "1000000", high="1000000", closed=False))
        emitted += builder.on_kline(make_kline(T0 + i * MINUTE, "5"))
    # assert
    assert len(emitted) == 1
    assert emitted[0].high == Decimal(5)
    assert emitted[0].volume == Decimal(60)


def test_other_symbols_and_intervals_are_ignored() -> None:
    # arrange
    builder = BarBuilder("BTCUSDT", "1m")
    # act
    other_symbol = builder.on_kline(make_kline(T0, "1", symbol="ETHUSDT"))
    other_interval = builder.on_kline(make_kline(T0, "1", interval="1h"))
    # assert
    assert other_symbol == other_interval == []
    assert builder.last_open_time is None


def test_one_minute_interval_passes_closed_klines_through() -> None:
    # arrange
    builder = BarBuilder("BTCUSDT", "1m")
    minutes = [make_kline(T0 + i * MINUTE, str(i + 1)) for i in range(3)]
    # act
    emitted = [bar for k in minutes for bar in builder.on_kline(k)]
    # assert
    assert emitted == minutes


def test_daily_bars_are_aligned_to_utc_midnight() -> None:
    # arrange: start at 13:37 UTC, run past the next midnight
    builder = BarBuilder("BTCUSDT", "1d")
    start = T0 + 13 * HOUR + 37 * MINUTE
    last_minute_of_day = T0 + DAY - MINUTE
    minutes = [make_kline(t, "1") for t in range(start, last_minute_of_day + 1, MINUTE)]
    # act
    emitted = [bar for k in minutes for bar in builder.on_kline(k)]
    next_day = builder.on_kline(make_kline(T0 + DAY, "2"))
    # assert
    assert [(b.open_time, b.close_time) for b in emitted] == [(T0, T0 + DAY - 1)]
    assert emitted[0].volume == Decimal(len(minutes))
    assert next_day == []


@pytest.mark.parametrize("interval", SUPPORTED_INTERVALS)
def test_bar_open_time_is_aligned_to_the_epoch(interval: str) -> None:
    # arrange
    length = interval_ms(interval)
    inside = T0 + 7 * DAY + length + 17 * MINUTE % length
    # act
    opened = bar_open_time(inside, interval)
    # assert
    assert opened % length == 0
    assert opened <= inside < opened + length


def test_unsupported_interval_is_rejected() -> None:
    with pytest.raises(ValueError, match="unsupported interval"):
        BarBuilder("BTCUSDT", "1w")
