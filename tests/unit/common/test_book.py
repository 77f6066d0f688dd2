"""OrderBook follows Binance's local order book rules."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from algo_common.domain.book import BookGap, CrossedBook, OrderBook
from algo_common.domain.models import BookDelta, BookSnapshot


def _snapshot(last_update_id: int = 100) -> BookSnapshot:
    return BookSnapshot(
        symbol="BTCUSDT",
        last_update_id=last_update_id,
        bids=((D("99"), D("1")), (D("98"), D("2"))),
        asks=((D("101"), D("1")), (D("102"), D("3"))),
    )


def _delta(first: int, final: int, bids=(), asks=()) -> BookDelta:  # type: ignore[no-untyped-def]
    return BookDelta(
        symbol="BTCUSDT", first_update_id=first, final_update_id=final, bids=bids, asks=asks, ts_event=0, ts_recv=0
    )


def test_stale_diff_is_ignored() -> None:
    book = OrderBook(_snapshot(100))
    assert book.apply(_delta(90, 100, bids=((D("99"), D("0")),))) is False
    assert book.best_bid() == (D("99"), D("1"))


def test_straddling_diff_applies_and_zero_removes_a_level() -> None:
    # arrange
    book = OrderBook(_snapshot(100))
    # act
    applied = book.apply(_delta(95, 105, bids=((D("99"), D("0")), (D("97"), D("5"))), asks=((D("101"), D("4")),)))
    # assert
    assert applied
    assert book.update_id == 105
    assert book.bids() == [(D("98"), D("2")), (D("97"), D("5"))]
    assert book.best_ask() == (D("101"), D("4"))


def test_missing_updates_raise_gap() -> None:
    book = OrderBook(_snapshot(100))
    book.apply(_delta(101, 110))
    with pytest.raises(BookGap):
        book.apply(_delta(112, 120))


def test_crossed_result_raises() -> None:
    book = OrderBook(_snapshot(100))
    with pytest.raises(CrossedBook):
        book.apply(_delta(101, 101, bids=((D("101.5"), D("1")),)))


prices = st.integers(min_value=1, max_value=40).map(lambda p: D(p) / 4)
qtys = st.sampled_from([D(0), D("0.5"), D(1), D("2.25")])


@given(st.lists(st.tuples(st.booleans(), prices, qtys), max_size=60))
def test_any_valid_diff_sequence_matches_a_naive_reference(changes: list[tuple[bool, D, D]]) -> None:
    # arrange: bids stay below 100 and asks above it, so the book never crosses
    book = OrderBook(BookSnapshot(symbol="X", last_update_id=0, bids=(), asks=()))
    reference: dict[str, dict[D, D]] = {"bids": {}, "asks": {}}
    # act
    for update_id, (is_bid, price, qty) in enumerate(changes, start=1):
        side, level_price = ("bids", price) if is_bid else ("asks", price + 100)
        delta = _delta(update_id, update_id, **{side: ((level_price, qty),)})
        book.apply(delta)
        if qty == 0:
            reference[side].pop(level_price, None)
        else:
            reference[side][level_price] = qty
    # assert
    assert book.bids() == sorted(reference["bids"].items(), reverse=True)
    assert book.asks() == sorted(reference["asks"].items())
