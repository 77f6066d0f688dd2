"""The collector's fast book gives the same answers as the shared reference book, diff after diff."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from algo_common.domain.book import BookGap, CrossedBook, OrderBook
from algo_common.domain.models import BookDelta, BookSnapshot, Levels
from collector.level_book import LevelBook

prices = st.integers(min_value=1, max_value=30).map(lambda p: D(p) / 4)
qtys = st.sampled_from([D(0), D("0.00000000"), D("0.5"), D(1), D("2.25")])
sides = st.lists(st.tuples(prices, qtys), max_size=8)


def _delta(first: int, final: int, bids: Levels = (), asks: Levels = ()) -> BookDelta:
    return BookDelta(
        symbol="X", first_update_id=first, final_update_id=final, bids=bids, asks=asks, ts_event=0, ts_recv=0
    )


def asks_of(levels: list[tuple[D, D]]) -> Levels:
    """Ask levels above 10, so the book never crosses."""
    return tuple((p + 10, q) for p, q in levels)


def _snapshot(bids: Levels, asks: Levels) -> BookSnapshot:
    return BookSnapshot(symbol="X", last_update_id=10, bids=bids, asks=asks)


@settings(max_examples=300)
@given(
    sides,
    sides,
    st.lists(st.tuples(st.integers(min_value=-1, max_value=2), sides, sides), max_size=40),
    st.integers(min_value=1, max_value=12),
)
def test_any_diff_sequence_gives_the_reference_books_answers(
    snap_bids: list[tuple[D, D]],
    snap_asks: list[tuple[D, D]],
    diffs: list[tuple[int, list[tuple[D, D]], list[tuple[D, D]]]],
    depth: int,
) -> None:
    # arrange: bids below 10, asks above 10 (never crossed); ids may repeat, go back or skip
    snapshot = _snapshot(tuple(snap_bids), asks_of(snap_asks))
    fast, reference = LevelBook(snapshot), OrderBook(snapshot)
    final = 10
    # act / assert: same verdict, same top and levels after every diff
    for step, bids, asks in diffs:
        first, final = final + step, final + max(step, 0) + 1
        delta = _delta(first, final, tuple(bids), asks_of(asks))
        outcomes: list[bool | str] = []
        for book in (fast, reference):
            try:
                outcomes.append(book.apply(delta))
            except BookGap:
                outcomes.append("gap")
        assert outcomes[0] == outcomes[1]
        if outcomes[0] == "gap":
            return
        assert fast.update_id == reference.update_id
        assert (fast.best_bid(), fast.best_ask()) == (reference.best_bid(), reference.best_ask())
        assert (fast.bids(depth), fast.asks(depth)) == (reference.bids(depth), reference.asks(depth))
        assert fast.depth == reference.depth
    assert (fast.bids(), fast.asks()) == (reference.bids(), reference.asks())


def test_a_crossed_result_raises_like_the_reference() -> None:
    # arrange
    book = LevelBook(_snapshot(((D(9), D(1)),), ((D(11), D(1)),)))
    # act / assert
    with pytest.raises(CrossedBook):
        book.apply(_delta(11, 11, bids=((D(12), D(1)),)))
