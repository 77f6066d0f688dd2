"""The collector's fast book gives the same answers as the shared reference book, diff after diff.

Levels reach the fast book as the venue's strings, and one price may be spelled several ways
("2.5", "2.50000000", "25E-1"): the reference book gets the same levels as ``Decimal``.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from algo_common.domain.book import BookGap, CrossedBook, OrderBook
from algo_common.domain.models import BookSnapshot, Levels
from algo_common.errors import BadMessage
from collector.level_book import PRICE_SCALE, DepthDiff, LevelBook, LevelStrings, canonical_price

prices = st.integers(min_value=1, max_value=30).map(lambda p: D(p) / 4)
qtys = st.sampled_from([D(0), D("0.00000000"), D("0.5"), D(1), D("2.25")])
spellings = st.sampled_from([str, lambda d: f"{d:.8f}", lambda d: f"{d:.2f}", lambda d: f"{d.normalize():E}"])
sides = st.lists(st.tuples(prices, qtys, spellings, spellings), max_size=8)
TextSide = list[tuple[D, D, Callable[[D], str], Callable[[D], str]]]


CHECK = LevelStrings()  # as the feed does, with its own tables (the book learns prices it lacks)


def _diff(first: int, final: int, bids: TextSide, asks: TextSide) -> DepthDiff:
    return DepthDiff(
        symbol="X",
        first_update_id=first,
        final_update_id=final,
        bids=CHECK.check([(sp(p), sq(q)) for p, q, sp, sq in bids]),
        asks=CHECK.check([(sp(p), sq(q)) for p, q, sp, sq in asks]),
        ts_event=0,
        ts_recv=0,
    )


def _bid_diff(update: int, bids: list[tuple[str, str]]) -> DepthDiff:
    """A diff of bid levels as given (checked or not), at one update id."""
    return DepthDiff(
        symbol="X", first_update_id=update, final_update_id=update, bids=bids, asks=[], ts_event=0, ts_recv=0
    )


def _delta(first: int, final: int, bids: Levels = (), asks: Levels = ()) -> DepthDiff:
    return _diff(first, final, [(p, q, str, str) for p, q in bids], [(p, q, str, str) for p, q in asks])


def asks_of(levels: TextSide) -> TextSide:
    """Ask levels above 10, so the book never crosses."""
    return [(p + 10, q, sp, sq) for p, q, sp, sq in levels]


def _levels(side: TextSide) -> Levels:
    return tuple((p, q) for p, q, _, _ in side)


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
    snap_bids: TextSide,
    snap_asks: TextSide,
    diffs: list[tuple[int, TextSide, TextSide]],
    depth: int,
) -> None:
    # arrange: bids below 10, asks above 10 (never crossed); ids may repeat, go back or skip
    snapshot = _snapshot(_levels(snap_bids), _levels(asks_of(snap_asks)))
    fast, reference = LevelBook(snapshot), OrderBook(snapshot)
    final = 10
    # act / assert: same verdict, same top and levels after every diff
    for step, bids, asks in diffs:
        first, final = final + step, final + max(step, 0) + 1
        diff = _diff(first, final, bids, asks_of(asks))
        outcomes: list[bool | str] = []
        for apply in (fast.apply, lambda d: reference.apply(d.to_book_delta())):
            try:
                outcomes.append(apply(diff))
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


binance_prices = st.integers(min_value=1, max_value=40).map(lambda p: D(p) / 4)
binance_qtys = st.one_of(st.just(D(0)), st.integers(min_value=1, max_value=10**12).map(lambda q: D(q).scaleb(-8)))
binance_sides = st.lists(st.tuples(binance_prices, binance_qtys), max_size=10)


def _binance_text(levels: list[tuple[D, D]]) -> list[tuple[str, str]]:
    """Levels written as Binance writes them (8 decimals), not checked: the book's fast path."""
    return [(f"{p:.8f}", f"{q:.8f}") for p, q in levels]


@settings(max_examples=200)
@given(binance_sides, st.lists(st.tuples(binance_sides, binance_sides), max_size=40), st.integers(4, 60))
def test_diffs_as_binance_writes_them_give_the_reference_books_answers(
    snap_bids: list[tuple[D, D]], diffs: list[tuple[list[tuple[D, D]], list[tuple[D, D]]]], limit: int
) -> None:
    # arrange: quantities mostly never seen before (as in a real recording); small tables start over often
    snapshot = _snapshot(tuple(snap_bids), ((D(20), D(1)),))
    fast, reference = LevelBook(snapshot, LevelStrings(limit=limit)), OrderBook(snapshot)
    # act / assert
    for update, (bids, asks) in enumerate(diffs, start=11):
        asks_above = [(p + 10, q) for p, q in asks]
        diff = DepthDiff(
            symbol="X",
            first_update_id=update,
            final_update_id=update,
            bids=_binance_text(bids),
            asks=_binance_text(asks_above),
            ts_event=0,
            ts_recv=0,
        )
        assert fast.apply(diff) == reference.apply(diff.to_book_delta())
        assert (fast.best_bid(), fast.best_ask()) == (reference.best_bid(), reference.best_ask())
        assert (fast.bids(), fast.asks()) == (reference.bids(), reference.asks())


@given(st.integers(min_value=1, max_value=10**28 - 1))
def test_a_price_in_binance_spelling_is_learned_with_its_exact_ticks(units: int) -> None:
    # arrange: a price of whole Binance steps (1e-8), written as Binance writes it
    price = D(units).scaleb(-8)
    text = f"{price:.8f}"
    strings = LevelStrings()
    # act
    (checked,) = strings.check([(text, "1.00000000")])
    # assert: kept as spelled (the canonical form), ticks exact
    assert checked == (text, "1.00000000")
    assert D(strings.ticks[text]).scaleb(-PRICE_SCALE) == price
    assert canonical_price(strings.ticks[text]) == text


def test_a_crossed_result_raises_like_the_reference() -> None:
    # arrange
    book = LevelBook(_snapshot(((D(9), D(1)),), ((D(11), D(1)),)))
    # act / assert
    with pytest.raises(CrossedBook):
        book.apply(_delta(11, 11, bids=((D(12), D(1)),)))


def test_prices_take_one_canonical_spelling_and_compare_by_value() -> None:
    # arrange
    book = LevelBook(_snapshot((), ()))
    # act: one price in two spellings, then removed by a third
    book.apply(_bid_diff(11, [("30000.12000000", "1.5")]))
    book.apply(_bid_diff(12, [("30000.12", "2")]))
    top = book.best_bid()
    book.apply(_bid_diff(13, [("3000012E-2", "0")]))
    # assert
    assert top is not None
    assert (str(top[0]), top[1]) == ("30000.12000000", D(2))
    assert book.depth == (0, 0)
    assert book.best_bid() is None


@pytest.mark.parametrize(
    "level",
    [("abc", "1"), ("-1", "1"), ("0", "1"), ("0.00000000", "1"), ("NaN", "1"), ("Infinity", "1"), ("1", "-1"),
     ("1", "NaN"), ("1", "sNaN"), ("1", "-Infinity"), ("1e20", "1"), ("0.0000000000000000001", "1"), ("1", ""),
     (" 1", "x"), ("1" * 65, "1")],
)  # fmt: skip
def test_level_strings_refuse_what_no_book_can_hold(level: tuple[str, str]) -> None:
    # arrange
    strings = LevelStrings()
    # act / assert
    with pytest.raises(BadMessage):
        strings.check([("1", "1"), level])
    assert "abc" not in strings.ticks


def test_level_strings_are_forgotten_at_their_limit_and_learned_again() -> None:
    # arrange: tables of 4 entries, a book that knew the first spellings
    strings = LevelStrings(limit=4)
    book = LevelBook(_snapshot(((D(1), D(1)),), ((D(20), D(1)),)), strings)
    strings.check([("2", "1"), ("3", "1"), ("4", "1")])  # past the limit: the tables start over
    # act: a diff whose strings the tables no longer know (never checked again by a feed)
    book.apply(_bid_diff(11, [("2", "1"), ("5", "2")]))
    # assert
    assert book.bids() == [(D(5), D(2)), (D(2), D(1)), (D(1), D(1))]


def test_an_unchecked_bad_level_raises_bad_message() -> None:
    # arrange
    book = LevelBook(_snapshot((), ()))
    # act / assert
    with pytest.raises(BadMessage):
        book.apply(_bid_diff(11, [("x", "1")]))


@pytest.mark.parametrize(
    ("price", "text"),
    [(D("30000.12"), "30000.12000000"), (D("1"), "1.00000000"), (D("0.000000001"), "0.000000001"),
     (D("12.123456789012345678"), "12.123456789012345678")],
)  # fmt: skip
def test_a_canonical_price_is_binance_spelling_when_exact_else_the_fewest_decimals(price: D, text: str) -> None:
    # act
    canonical = canonical_price(int(price.scaleb(PRICE_SCALE)))
    # assert
    assert canonical == text
    assert D(canonical) == price


def test_a_spelling_learned_after_the_tables_start_over_still_finds_the_held_level() -> None:
    # arrange: the book holds 2 (from the snapshot); the tables then forget everything
    strings = LevelStrings(limit=6)
    book = LevelBook(_snapshot(((D(2), D(1)), (D(1), D(1))), ((D(20), D(1)),)), strings)
    strings.check([("7", "1"), ("8", "1"), ("9", "1")])  # past the limit: the tables start over
    # act: a removal of 2 in a spelling the tables never saw, then a new level
    book.apply(_bid_diff(11, strings.check([("2.0", "0"), ("3", "1.5")])))
    # assert: one level per price, removed by value
    assert book.bids() == [(D(3), D("1.5")), (D(1), D(1))]
    assert book.best_bid() == (D(3), D("1.5"))
