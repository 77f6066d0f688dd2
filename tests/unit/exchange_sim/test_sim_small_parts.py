"""Clock, request weights, faults, symbol specs, the true book."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from exchange_sim.book import SimBook
from exchange_sim.clock import SimClock
from exchange_sim.faults import Faults
from exchange_sim.streams import all_stream_names, split_streams, stream_names, symbol_of
from exchange_sim.symbols import SymbolSpec
from exchange_sim.weights import WeightCounter, depth_weight


def test_clock_moves_only_forward_and_only_when_told() -> None:
    clock = SimClock(1_000)
    assert clock.now_ms() == 1_000
    assert clock.advance(500) == 1_500
    assert clock.advance_to(1_200) == 1_500
    assert clock.advance_to(2_000) == 2_000
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(-1)


@pytest.mark.parametrize(
    ("limit", "weight"), [(1, 5), (100, 5), (101, 25), (500, 25), (501, 50), (1000, 50), (1001, 250), (5000, 250)]
)
def test_depth_weight_by_limit(limit: int, weight: int) -> None:
    assert depth_weight(limit) == weight


def test_weight_counter_per_ip_per_minute_window() -> None:
    now = [120.0]
    counter = WeightCounter(limit=10, wall_time=lambda: now[0])
    assert counter.charge("a", 6).used == 6
    assert counter.charge("b", 1).used == 1
    over = counter.charge("a", 5)
    assert (over.used, over.over_limit, over.retry_after_s) == (11, True, 60)
    now[0] = 150.5
    assert counter.charge("a", 1).retry_after_s == 30
    now[0] = 180.0  # next minute
    fresh = counter.charge("a", 2)
    assert (fresh.used, fresh.over_limit) == (2, False)


def test_stall_ends_on_time_and_can_be_ended_early() -> None:
    faults = Faults()
    assert not faults.is_stalled(10.0)
    faults.stall(5.0, now=10.0)
    assert faults.is_stalled(14.9)
    assert faults.stall_remaining(12.0) == 3.0
    assert not faults.is_stalled(15.0)
    faults.stall(100.0, now=20.0)
    faults.stall(0.0, now=21.0)
    assert not faults.is_stalled(21.0)
    with pytest.raises(ValueError, match=">= 0"):
        faults.stall(-1, now=0)


def test_stream_names() -> None:
    assert stream_names("BTCUSDT", "depth", "1m") == ("btcusdt@depth", "btcusdt@depth@100ms")
    assert stream_names("BTCUSDT", "kline", "1h") == ("btcusdt@kline_1h",)
    assert stream_names("BTCUSDT", "aggTrade", "1m") == ("btcusdt@aggTrade",)
    assert len(all_stream_names("ETHUSDT", "1m")) == 6
    assert symbol_of("ethusdt@bookTicker") == "ETHUSDT"
    assert split_streams("a@trade//b@trade/a@trade") == ["a@trade", "b@trade"]


@pytest.mark.parametrize(
    ("symbol", "price", "base", "quote", "tick", "step"),
    [
        ("BTCUSDT", "30000", "BTC", "USDT", "0.01", "0.00001"),
        ("ETHBTC", "0.05", "ETH", "BTC", "1E-8", "1"),
        ("NKNUSDT", "0.35", "NKN", "USDT", "1E-7", "1"),
    ],
)
def test_symbol_spec(symbol: str, price: str, base: str, quote: str, tick: str, step: str) -> None:
    spec = SymbolSpec.derive(symbol, Decimal(price))
    assert (spec.base_asset, spec.quote_asset) == (base, quote)
    assert (spec.tick_size, spec.step_size) == (Decimal(tick), Decimal(step))


def test_symbol_spec_rejects_lower_case() -> None:
    with pytest.raises(ValueError, match="upper-case"):
        SymbolSpec.derive("btcusdt", Decimal(1))


def make_book(levels: int = 10) -> SimBook:
    return SimBook(
        tick_size=Decimal("0.01"),
        step_size=Decimal("0.00001"),
        price=Decimal(30000),
        levels_per_side=levels,
        first_update_id=100,
        rng=random.Random(3),
    )


def test_book_is_never_crossed_and_sides_are_sorted_best_first() -> None:
    book = make_book()
    rng = random.Random(1)
    price = Decimal(30000)
    for _ in range(200):
        price = max(Decimal("0.01"), price + Decimal(rng.randint(-500, 500)) / 100)
        diff = book.requote(price)
        bids, asks = book.bids(), book.asks()
        assert bids == sorted(bids, reverse=True)
        assert asks == sorted(asks)
        assert bids[0][0] < price < asks[0][0]
        assert diff.final_update_id == book.last_update_id
        assert all(q > 0 for _, q in bids + asks)


def test_hidden_changes_use_up_update_ids() -> None:
    book = make_book()
    before = book.last_update_id
    book.hide_changes(4)
    assert book.last_update_id == before + 4
    assert book.requote(Decimal(30000)).first_update_id == before + 5


def test_book_limit_cuts_each_side() -> None:
    book = make_book(levels=30)
    assert len(book.bids(5)) == len(book.asks(5)) == 5
    assert book.bids(5) == book.bids()[:5]
