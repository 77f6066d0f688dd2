"""Kline bars: selection like GET /api/v3/klines, aggregation, CSV history."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from exchange_sim.bars import Bar, BarSeries, load_history_csv

MINUTE = 60_000


def series(count: int, forming: bool = True) -> BarSeries:
    bars = [Bar.opening(i * MINUTE, MINUTE, Decimal(100 + i)) for i in range(count)]
    for bar in bars:
        bar.closed = True
    result = BarSeries(MINUTE, bars)
    if forming:
        result.forming = Bar.opening(count * MINUTE, MINUTE, Decimal(200))
    return result


def opens(bars: list[Bar]) -> list[int]:
    return [bar.open_time // MINUTE for bar in bars]


def test_without_times_the_latest_bars_including_the_forming_one() -> None:
    assert opens(series(10).select(None, None, 3)) == [8, 9, 10]


def test_start_time_gives_the_first_bars_from_it() -> None:
    assert opens(series(10).select(4 * MINUTE, None, 3)) == [4, 5, 6]


def test_end_time_gives_the_last_bars_up_to_it() -> None:
    assert opens(series(10).select(None, 4 * MINUTE, 2)) == [3, 4]


def test_start_and_end_are_inclusive_open_times() -> None:
    assert opens(series(10).select(2 * MINUTE, 5 * MINUTE, 500)) == [2, 3, 4, 5]


def test_add_trade_tracks_ohlcv_and_taker_volume() -> None:
    bar = Bar.opening(0, MINUTE, Decimal(10))
    bar.add_trade(7, Decimal(11), Decimal(2), buyer_is_maker=False)
    bar.add_trade(8, Decimal(9), Decimal(1), buyer_is_maker=True)
    assert (bar.open, bar.high, bar.low, bar.close) == (Decimal(11), Decimal(11), Decimal(9), Decimal(9))
    assert (bar.volume, bar.quote_volume, bar.trades) == (Decimal(3), Decimal(31), 2)
    assert (bar.taker_buy_base, bar.taker_buy_quote) == (Decimal(2), Decimal(22))
    assert (bar.first_trade_id, bar.last_trade_id) == (7, 8)


def test_aggregation_merges_bars_on_the_epoch_grid() -> None:
    # 1m bars 0..6 closed, 7 forming -> 5m bars [0..4] closed, [5..7] forming
    merged = series(7).select_aggregated(5 * MINUTE, None, None, 10)
    assert [(b.open_time, b.close_time, b.closed) for b in merged] == [
        (0, 5 * MINUTE - 1, True),
        (5 * MINUTE, 10 * MINUTE - 1, False),
    ]
    assert merged[0].open == Decimal(100)
    assert merged[0].close == Decimal(104)
    assert merged[1].close == Decimal(200)


def test_closing_keeps_a_bounded_history() -> None:
    bars = BarSeries(MINUTE, max_kept=3)
    for i in range(10):
        bars.forming = Bar.opening(i * MINUTE, MINUTE, Decimal(1))
        bars.close_forming()
    assert bars.closed_count == 10
    assert 3 <= len(bars.select(None, None, 1000)) <= 6
    assert bars.last_closed is not None
    assert bars.last_closed.open_time == 9 * MINUTE


def write(path: Path, rows: list[str]) -> Path:
    path.write_text("open_time_ms,open,high,low,close,volume\n" + "".join(f"{row}\n" for row in rows))
    return path


def test_history_csv_loads_closed_bars(tmp_path: Path) -> None:
    csv = write(tmp_path / "h.csv", ["3600000,10,12,9,11,5", "10800000,11,11,10,10.5,2"])  # a 1 h gap is fine
    bars = load_history_csv(csv, 3_600_000)
    assert [(b.open_time, b.close_time, b.close, b.closed) for b in bars] == [
        (3_600_000, 7_199_999, Decimal(11), True),
        (10_800_000, 14_399_999, Decimal("10.5"), True),
    ]


@pytest.mark.parametrize(
    ("rows", "error"),
    [
        (["3600000,10,12,9,11,5", "3600000,10,12,9,11,5"], "ascending"),
        (["3600001,10,12,9,11,5"], "grid"),
        (["3600000,10,9,9,11,5"], "inconsistent"),
        (["3600000,ten,12,9,11,5"], "malformed"),
    ],
)
def test_history_csv_rejects_bad_rows(tmp_path: Path, rows: list[str], error: str) -> None:
    with pytest.raises(ValueError, match=error):
        load_history_csv(write(tmp_path / "h.csv", rows), 3_600_000)


def test_history_csv_needs_the_header(tmp_path: Path) -> None:
    (tmp_path / "h.csv").write_text("time,o,h,l,c,v\n1,1,1,1,1,1\n")
    with pytest.raises(ValueError, match="header"):
        load_history_csv(tmp_path / "h.csv", 3_600_000)


@pytest.mark.parametrize(
    ("start", "end", "limit", "expected"),
    [
        (8, None, 5, [8, 9, 10]),  # the forming bar comes last when there is room
        (0, None, 10, list(range(10))),  # ... and not when the limit is reached
        (None, 9, 500, list(range(10))),  # an end before the forming bar excludes it
        (None, None, 1, [10]),
        (11, None, 5, []),
        (3, 2, 5, []),
    ],
)
def test_select_edges(start: int | None, end: int | None, limit: int, expected: list[int]) -> None:
    start_ms = None if start is None else start * MINUTE
    end_ms = None if end is None else end * MINUTE
    assert opens(series(10).select(start_ms, end_ms, limit)) == expected


def test_aggregation_from_a_start_time() -> None:
    merged = series(12).select_aggregated(5 * MINUTE, 5 * MINUTE, None, 10)
    assert [(b.open_time // MINUTE, b.closed) for b in merged] == [(5, True), (10, False)]
    assert merged[0].open == Decimal(105)
    assert merged[0].close == Decimal(109)
