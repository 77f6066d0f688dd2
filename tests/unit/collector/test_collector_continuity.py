"""Watermarks drop what two overlapping connections both deliver and turn skipped ids into bounded gaps."""

from __future__ import annotations

from decimal import Decimal as D

from hypothesis import given
from hypothesis import strategies as st

from algo_common.domain.models import Kline, Trade
from collector.continuity import Continuity, Gap, GapKind, Holes

MINUTE = 60_000


def _trade(trade_id: int, symbol: str = "BTCUSDT") -> Trade:
    return Trade(
        symbol=symbol,
        trade_id=trade_id,
        price=D("1"),
        qty=D("1"),
        buyer_is_maker=False,
        ts_trade=trade_id,
        ts_event=trade_id,
        ts_recv=trade_id,
    )


def _kline(open_time: int, closed: bool, ts_event: int, interval: str = "1m") -> Kline:
    one = D("1")
    return Kline(
        symbol="BTCUSDT",
        interval=interval,
        open_time=open_time,
        close_time=open_time + MINUTE - 1,
        open=one,
        high=one,
        low=one,
        close=one,
        volume=one,
        quote_volume=one,
        trades=1,
        closed=closed,
        ts_event=ts_event,
        ts_recv=ts_event,
    )


def test_consecutive_trades_are_fresh_and_repeats_are_duplicates() -> None:
    # arrange
    marks = Continuity()
    # act
    verdicts = [marks.on_trade(_trade(i)) for i in (5, 6, 6, 5, 7)]
    # assert
    assert [v.fresh for v in verdicts] == [True, True, False, False, True]
    assert all(v.gap is None for v in verdicts)
    assert marks.duplicates == 2


def test_skipped_trade_ids_become_a_gap_bounded_on_both_sides() -> None:
    # arrange
    marks = Continuity()
    marks.on_trade(_trade(10))
    # act
    verdict = marks.on_trade(_trade(15))
    # assert
    assert verdict.fresh
    assert verdict.gap == Gap("BTCUSDT", GapKind.TRADES, 11, 14)
    assert verdict.gap.size == 4


def test_symbols_have_their_own_watermarks() -> None:
    # arrange
    marks = Continuity()
    marks.on_trade(_trade(100, "BTCUSDT"))
    # act
    verdict = marks.on_trade(_trade(3, "ETHUSDT"))
    # assert
    assert verdict.fresh
    assert verdict.gap is None


def test_a_seeded_watermark_finds_the_hole_left_by_a_restart() -> None:
    # arrange
    marks = Continuity()
    marks.seed_trade("BTCUSDT", 41)
    marks.seed_kline("BTCUSDT", "1m", 0)
    # act
    trade = marks.on_trade(_trade(50))
    kline = marks.on_kline(_kline(3 * MINUTE, True, 4 * MINUTE))
    # assert
    assert trade.gap == Gap("BTCUSDT", GapKind.TRADES, 42, 49)
    assert kline.gap == Gap("BTCUSDT", GapKind.KLINES, MINUTE, 2 * MINUTE, "1m")


def test_kline_updates_repeat_by_time_and_closed_flag_and_a_missed_close_is_a_gap() -> None:
    # arrange
    marks = Continuity()
    stream = [
        _kline(0, False, 10),
        _kline(0, False, 20),
        _kline(0, False, 20),  # the overlap's repeat
        _kline(0, True, MINUTE),
        _kline(0, True, MINUTE),  # the closed bar again
        _kline(MINUTE, False, MINUTE + 5),
        _kline(3 * MINUTE, True, 4 * MINUTE),  # bars 1 and 2 closed while we were away
    ]
    # act
    verdicts = [marks.on_kline(k) for k in stream]
    # assert
    assert [v.fresh for v in verdicts] == [True, True, False, True, False, True, True]
    assert verdicts[-1].gap == Gap("BTCUSDT", GapKind.KLINES, MINUTE, 2 * MINUTE, "1m")


def test_the_first_update_of_a_forming_bar_reveals_the_closed_bars_missed_before_it() -> None:
    # arrange
    marks = Continuity()
    marks.on_kline(_kline(0, True, MINUTE))
    # act: reconnected while bar 4 forms; its close later is no gap any more
    forming = marks.on_kline(_kline(4 * MINUTE, False, 4 * MINUTE + 10))
    closing = marks.on_kline(_kline(4 * MINUTE, True, 5 * MINUTE))
    # assert
    assert forming.gap == Gap("BTCUSDT", GapKind.KLINES, MINUTE, 3 * MINUTE, "1m")
    assert closing.fresh
    assert closing.gap is None


def test_calendar_month_klines_are_never_gap_checked() -> None:
    # arrange
    marks = Continuity()
    marks.on_kline(_kline(0, True, 1, interval="1M"))
    # act
    verdict = marks.on_kline(_kline(10 * MINUTE, True, 2, interval="1M"))
    # assert
    assert verdict.fresh
    assert verdict.gap is None


@given(st.lists(st.integers(min_value=1, max_value=60), min_size=1, max_size=80))
def test_fresh_trades_plus_gaps_cover_every_id_once(ids: list[int]) -> None:
    # arrange: any arrival order with repeats, as two overlapping connections may give
    marks = Continuity()
    # act
    covered: list[int] = []
    for trade_id in ids:
        verdict = marks.on_trade(_trade(trade_id))
        if verdict.gap is not None:
            covered.extend(range(verdict.gap.first, verdict.gap.last + 1))
        if verdict.fresh:
            covered.append(trade_id)
    # assert: what was handled live or is to be backfilled is each id from the first up to the highest, once
    assert sorted(covered) == list(range(ids[0], max(ids) + 1))


def test_holes_collect_dropped_events_as_one_range_per_symbol_and_kind() -> None:
    # arrange
    holes = Holes()
    # act
    for trade_id in (7, 9, 8):
        holes.add(_trade(trade_id))
    holes.add(_kline(MINUTE, True, 0))
    holes.add(_kline(3 * MINUTE, True, 0))
    gaps = holes.take()
    # assert
    assert gaps == [
        Gap("BTCUSDT", GapKind.TRADES, 7, 9),
        Gap("BTCUSDT", GapKind.KLINES, MINUTE, 3 * MINUTE, "1m"),
    ]
    assert not holes
    assert holes.take() == []
