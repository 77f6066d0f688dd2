"""SymbolBook takes Binance's local order book decisions: buffer, drop, apply, refetch, resync."""

from __future__ import annotations

from decimal import Decimal as D

from hypothesis import given
from hypothesis import strategies as st

from algo_common.domain.models import BookSnapshot, BookTop, Levels
from collector.book_state import Cadence, StepKind, SymbolBook
from collector.level_book import DepthDiff, LevelStrings

CHECK = LevelStrings()  # the feed's check, with its own tables


def _snapshot(last_update_id: int = 100) -> BookSnapshot:
    return BookSnapshot(
        symbol="BTCUSDT",
        last_update_id=last_update_id,
        bids=((D("99"), D("1")), (D("98"), D("2"))),
        asks=((D("101"), D("1")), (D("102"), D("3"))),
    )


def _delta(first: int, final: int, bids: Levels = (), asks: Levels = (), ts: int = 0) -> DepthDiff:
    """A diff with its levels as the venue's strings."""
    return DepthDiff(
        symbol="BTCUSDT",
        first_update_id=first,
        final_update_id=final,
        bids=CHECK.check([(str(p), str(q)) for p, q in bids]),
        asks=CHECK.check([(str(p), str(q)) for p, q in asks]),
        ts_event=ts,
        ts_recv=ts,
    )


def _ticker(update_id: int, bid: str, ask: str) -> BookTop:
    return BookTop(
        symbol="BTCUSDT",
        update_id=update_id,
        bid_price=D(bid),
        bid_qty=D(1),
        ask_price=D(ask),
        ask_qty=D(1),
        ts_event=0,
        ts_recv=0,
    )


def test_diffs_are_buffered_until_a_snapshot_and_then_ask_for_one() -> None:
    # arrange
    book = SymbolBook("BTCUSDT")
    assert not book.wants_snapshot
    # act
    step = book.on_delta(_delta(95, 99))
    # assert
    assert step.kind is StepKind.BUFFERED
    assert book.wants_snapshot
    assert book.book is None


def test_snapshot_older_than_the_first_buffered_diff_is_refetched() -> None:
    # arrange
    book = SymbolBook("BTCUSDT")
    book.on_delta(_delta(101, 105))
    # act
    step = book.on_snapshot(_snapshot(100), ts_recv=1)
    # assert
    assert step.kind is StepKind.TOO_OLD
    assert book.book is None
    assert book.wants_snapshot


def test_stale_buffered_diffs_are_dropped_and_the_straddling_one_applies() -> None:
    # arrange
    book = SymbolBook("BTCUSDT")
    book.on_delta(_delta(90, 95, bids=((D("99"), D("0")),)))  # u <= lastUpdateId: already in the snapshot
    book.on_delta(_delta(96, 100))
    book.on_delta(_delta(100, 103, bids=((D("99.5"), D("4")),), ts=7))  # U <= L + 1 <= u
    # act
    step = book.on_snapshot(_snapshot(100), ts_recv=1)
    # assert
    assert step.kind is StepKind.SYNCED
    assert (book.dropped, book.applied) == (2, 1)
    assert book.book is not None
    assert book.book.update_id == 103
    assert book.book.best_bid() == (D("99.5"), D("4"))
    assert book.last_ts == (7, 7)


def test_first_diff_after_the_snapshot_must_straddle_it() -> None:
    # arrange
    book = SymbolBook("BTCUSDT")
    book.on_delta(_delta(98, 99))
    book.on_delta(_delta(102, 104))  # 101 is missing
    # act
    step = book.on_snapshot(_snapshot(100), ts_recv=1)
    # assert
    assert step == step.__class__(StepKind.RESYNC, "gap")
    assert book.book is None
    assert book.wants_snapshot  # the diff that revealed the gap starts the next attempt


def test_gap_in_the_live_stream_discards_the_book_and_restarts_from_a_snapshot() -> None:
    # arrange
    book = SymbolBook("BTCUSDT")
    book.on_snapshot(_snapshot(100), ts_recv=1)
    assert book.on_delta(_delta(101, 110)).kind is StepKind.APPLIED
    # act
    step = book.on_delta(_delta(112, 120))
    # assert
    assert (step.kind, step.reason) == (StepKind.RESYNC, "gap")
    assert book.gaps == 1
    assert book.book is None
    assert book.on_snapshot(_snapshot(115), ts_recv=2).kind is StepKind.SYNCED
    assert book.book is not None
    assert book.book.update_id == 120


def test_stale_live_diff_is_ignored() -> None:
    # arrange
    book = SymbolBook("BTCUSDT")
    book.on_snapshot(_snapshot(100), ts_recv=1)
    book.on_delta(_delta(101, 105))
    # act
    step = book.on_delta(_delta(103, 104, bids=((D("99"), D("0")),)))
    # assert
    assert step.kind is StepKind.STALE
    assert book.book is not None
    assert book.book.best_bid() == (D("99"), D("1"))


def test_quantity_zero_removes_a_level_and_quantities_are_absolute() -> None:
    # arrange
    book = SymbolBook("BTCUSDT")
    book.on_snapshot(_snapshot(100), ts_recv=1)
    # act
    book.on_delta(_delta(101, 101, bids=((D("99"), D("0")), (D("98"), D("0.5"))), asks=((D("102"), D("0")),)))
    # assert
    assert book.book is not None
    assert book.book.bids() == [(D("98"), D("0.5"))]
    assert book.book.asks() == [(D("101"), D("1"))]


def test_crossed_result_forces_a_resync() -> None:
    # arrange
    book = SymbolBook("BTCUSDT")
    book.on_snapshot(_snapshot(100), ts_recv=1)
    # act
    step = book.on_delta(_delta(101, 101, bids=((D("101.5"), D("1")),)))
    # assert
    assert (step.kind, step.reason) == (StepKind.RESYNC, "crossed")
    assert book.book is None


def test_buffer_overflow_keeps_the_newest_diffs_so_an_old_snapshot_is_refetched() -> None:
    # arrange
    book = SymbolBook("BTCUSDT", max_buffer=3)
    for update_id in range(101, 106):
        book.on_delta(_delta(update_id, update_id))
    # act
    step = book.on_snapshot(_snapshot(101), ts_recv=1)
    # assert: 101 and 102 fell out, so a snapshot at 101 cannot bridge to 103
    assert book.buffered == 3
    assert step.kind is StepKind.TOO_OLD


def test_reset_forgets_book_and_buffer() -> None:
    # arrange
    book = SymbolBook("BTCUSDT")
    book.on_snapshot(_snapshot(100), ts_recv=1)
    # act
    book.reset()
    # assert
    assert book.book is None
    assert not book.wants_snapshot
    assert book.on_delta(_delta(101, 102)).kind is StepKind.BUFFERED


def test_top_is_emitted_only_when_it_changes() -> None:
    # arrange
    book = SymbolBook("BTCUSDT")
    book.on_snapshot(_snapshot(100), ts_recv=5)
    first = book.top_if_changed()
    book.on_delta(_delta(101, 101, bids=((D("97"), D("3")),), ts=9))  # below the top
    unchanged = book.top_if_changed()
    book.on_delta(_delta(102, 102, asks=((D("101"), D("0.25")),), ts=11))
    # act
    changed = book.top_if_changed()
    # assert
    assert first == BookTop(
        symbol="BTCUSDT",
        update_id=100,
        bid_price=D("99"),
        bid_qty=D("1"),
        ask_price=D("101"),
        ask_qty=D("1"),
        ts_event=5,
        ts_recv=5,
    )
    assert unchanged is None
    assert changed is not None
    assert (changed.update_id, changed.ask_qty, changed.ts_event) == (102, D("0.25"), 11)


def test_depth_record_has_the_n_best_levels_and_a_replay_safe_id() -> None:
    # arrange
    book = SymbolBook("BTCUSDT")
    book.on_snapshot(_snapshot(100), ts_recv=5)
    # act
    record = book.depth_record(levels=1)
    # assert
    assert record is not None
    assert (record.bids, record.asks) == (((D("99"), D("1")),), ((D("101"), D("1")),))
    assert record.event_id == "BTCUSDT:depth:100"


def test_book_ticker_matching_the_book_at_its_update_id_is_counted() -> None:
    # arrange: a ticker arrives before the diff that reaches its update id, another one after
    book = SymbolBook("BTCUSDT")
    book.on_snapshot(_snapshot(100), ts_recv=1)
    early = book.on_ticker(_ticker(101, "99", "100.5"))
    # act
    step = book.on_delta(_delta(101, 101, asks=((D("100.5"), D("2")),)))
    late = book.on_ticker(_ticker(101, "99", "100.5"))
    # assert
    assert (early, late) == (None, None)
    assert step.kind is StepKind.APPLIED
    assert (book.tickers.checked, book.tickers.matched) == (2, 2)


def test_book_ticker_contradicting_the_book_forces_a_resync() -> None:
    # arrange
    book = SymbolBook("BTCUSDT")
    book.on_snapshot(_snapshot(100), ts_recv=1)
    book.on_delta(_delta(101, 101))
    # act
    step = book.on_ticker(_ticker(101, "99", "100.5"))
    # assert
    assert step is not None
    assert (step.kind, step.reason) == (StepKind.RESYNC, "ticker_mismatch")
    assert book.book is None


def test_cadence_fires_once_per_interval() -> None:
    # arrange
    cadence = Cadence(interval_ms=1000)
    # act
    fired = [cadence.take(now) for now in (0, 500, 999, 1000, 1500, 2100)]
    # assert
    assert fired == [True, False, False, True, False, True]


prices = st.integers(min_value=1, max_value=40).map(lambda p: D(p) / 4)
quantities = st.sampled_from([D(0), D("0.5"), D(1), D("2.25"), D("0.00000001")])
diff = st.tuples(
    st.lists(st.tuples(prices, quantities), max_size=4), st.lists(st.tuples(prices, quantities), max_size=4)
)


@given(st.lists(diff, max_size=50), st.integers(min_value=0, max_value=3))
def test_any_sequence_of_valid_diffs_matches_a_naive_dict_reference(
    diffs: list[tuple[list[tuple[D, D]], list[tuple[D, D]]]], stale: int
) -> None:
    # arrange: bids below 11 and asks above 100, so the book never crosses; a few stale diffs lead
    book = SymbolBook("X")
    book.on_snapshot(BookSnapshot(symbol="X", last_update_id=10, bids=(), asks=()), ts_recv=0)
    reference: dict[str, dict[D, D]] = {"bids": {}, "asks": {}}
    for index in range(stale):
        assert book.on_delta(_delta(5 + index, 6 + index, bids=((D(1), D(1)),))).kind is StepKind.STALE
    # act
    for update_id, (bids, asks) in enumerate(diffs, start=11):
        ask_levels = tuple((price + 100, qty) for price, qty in asks)
        step = book.on_delta(_delta(update_id, update_id, bids=tuple(bids), asks=ask_levels))
        assert step.kind is StepKind.APPLIED
        for side, levels in (("bids", bids), ("asks", ask_levels)):
            for price, qty in levels:
                if qty == 0:
                    reference[side].pop(price, None)
                else:
                    reference[side][price] = qty
    # assert
    assert book.book is not None
    assert book.book.bids() == sorted(reference["bids"].items(), reverse=True)
    assert book.book.asks() == sorted(reference["asks"].items())
    assert book.book.update_id == 10 + len(diffs)
