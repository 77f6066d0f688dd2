"""Market steps: ids, sequence numbers, kline boundaries, scripted closes, determinism."""

from __future__ import annotations

import itertools
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

import pytest

from algo_common.binance.schemas import BinanceBookTicker, BinanceDepthUpdate, BinanceKline
from exchange_sim.bars import load_history_csv
from exchange_sim.encoding import encode
from exchange_sim.market import Market, MarketConfig, MarketEvent
from exchange_sim.schemas import SimAggTrade, SimTrade

T = TypeVar("T")


def run(market: Market, steps: int) -> list[MarketEvent]:
    events: list[MarketEvent] = []
    for _ in range(steps):
        events.extend(market.step())
    return events


def of_kind(events: list[MarketEvent], kind: str, cls: type[T]) -> list[T]:
    payloads = [event.payload for event in events if event.kind == kind]
    assert all(isinstance(p, cls) for p in payloads)
    return payloads  # type: ignore[return-value]


def test_trade_ids_strictly_increase_and_agg_trades_mirror_them() -> None:
    # arrange
    market = Market(MarketConfig(steps_per_bar=5, max_trades_per_step=4))
    # act
    events = run(market, 200)
    # assert
    trades = of_kind(events, "trade", SimTrade)
    aggs = of_kind(events, "aggTrade", SimAggTrade)
    assert [t.t for t in trades] == list(range(1, len(trades) + 1))
    assert [(a.a, a.f, a.l, a.p, a.q, a.T) for a in aggs] == [(t.t, t.t, t.t, t.p, t.q, t.T) for t in trades]
    assert market.symbols["BTCUSDT"].trades_count == len(trades)


def test_each_diff_starts_right_after_the_previous_one() -> None:
    market = Market(MarketConfig(steps_per_bar=5))
    diffs = of_kind(run(market, 300), "depth", BinanceDepthUpdate)
    assert len(diffs) == 300
    for previous, current in itertools.pairwise(diffs):
        assert previous.u + 1 == current.U
        assert current.u >= current.U
    assert diffs[-1].u == market.symbols["BTCUSDT"].book.last_update_id


def test_diffs_remove_levels_with_zero_quantity() -> None:
    diffs = of_kind(run(Market(MarketConfig()), 50), "depth", BinanceDepthUpdate)
    removed = [qty for diff in diffs for _, qty in [*diff.b, *diff.a] if qty == 0]
    assert removed
    assert b'"0.00000000"' in encode(next(d for d in diffs if any(q == 0 for _, q in d.b + d.a)))


def test_skip_sequence_makes_the_next_diff_jump_once() -> None:
    # arrange
    market = Market(MarketConfig())
    before = of_kind(market.step(), "depth", BinanceDepthUpdate)[0]
    market.request_skip("BTCUSDT", 3)
    # act
    jumped = of_kind(market.step(), "depth", BinanceDepthUpdate)[0]
    after = of_kind(market.step(), "depth", BinanceDepthUpdate)[0]
    # assert
    assert before.u + 1 + 3 == jumped.U
    assert jumped.u + 1 == after.U


def test_book_ticker_reports_the_book_after_the_diff_of_its_step() -> None:
    market = Market(MarketConfig())
    for _ in range(50):
        events = market.step()
        diff = of_kind(events, "depth", BinanceDepthUpdate)[0]
        ticker = of_kind(events, "bookTicker", BinanceBookTicker)[0]
        book = market.symbols["BTCUSDT"].book
        assert ticker.u == diff.u == book.last_update_id
        assert (ticker.b, ticker.B) == book.best_bid()
        assert (ticker.a, ticker.A) == book.best_ask()
        assert ticker.b < market.symbols["BTCUSDT"].price < ticker.a


def test_event_times_never_go_backwards_and_follow_the_simulated_clock() -> None:
    market = Market(MarketConfig(steps_per_bar=4))
    times = [getattr(e.payload, "E") for e in run(market, 100) if hasattr(e.payload, "E")]  # noqa: B009
    assert times == sorted(times)
    assert market.clock.now_ms() == times[-1]


def test_klines_close_at_the_interval_boundary_on_the_last_trade() -> None:
    # arrange
    steps_per_bar = 4
    market = Market(MarketConfig(interval="1m", steps_per_bar=steps_per_bar, start_time_ms=1_700_000_012_345))
    # act
    events = run(market, steps_per_bar * 6)
    # assert
    klines = of_kind(events, "kline", BinanceKline)
    assert [k.k.x for k in klines] == ([False] * (steps_per_bar - 1) + [True]) * 6
    closed = [k for k in klines if k.k.x]
    assert closed[0].k.t == 1_700_000_012_345 - 1_700_000_012_345 % 60_000
    last_trade_before: dict[int, SimTrade] = {}
    last: SimTrade | None = None
    for event in events:
        if isinstance(event.payload, SimTrade):
            last = event.payload
        elif isinstance(event.payload, BinanceKline) and event.payload.k.x:
            assert last is not None
            last_trade_before[event.payload.k.t] = last
    for bar, following in itertools.pairwise(closed):
        assert following.k.t == bar.k.T + 1
        assert following.k.o == bar.k.c
    for bar in closed:
        k = bar.k
        assert k.t + 60_000 - 1 == k.T
        assert bar.E > k.T
        assert k.c == last_trade_before[k.t].p
        assert last_trade_before[k.t].t == k.L
        assert k.h >= max(k.o, k.c)
        assert k.l <= min(k.o, k.c)
        assert k.n == k.L - k.f + 1
        assert k.v > 0
        assert k.q > 0


def test_path_mode_hits_exactly_the_given_closes_then_waits() -> None:
    # arrange
    closes = [Decimal("30100.50"), Decimal("29950"), Decimal("31000.25"), Decimal("30000.01")]
    market = Market(MarketConfig(mode="path", path=tuple(closes), steps_per_bar=3))
    # act
    events = run(market, 12)
    idle_time = market.clock.now_ms()
    idle = market.step()
    # assert
    bars = [k.k for k in of_kind(events, "kline", BinanceKline) if k.k.x]
    assert [k.c for k in bars] == closes
    assert [k.o for k in bars] == [Decimal(30000), *closes[:-1]]
    assert all(k.h >= max(k.o, k.c) and k.l <= min(k.o, k.c) for k in bars)
    assert idle == []
    assert market.clock.now_ms() == idle_time
    # more closes resume the market on the next bar of the grid
    market.append_path("BTCUSDT", [Decimal("30500")])
    resumed = [k.k for k in of_kind(run(market, 3), "kline", BinanceKline)]
    assert resumed[0].t == bars[-1].T + 1
    assert resumed[-1].x
    assert resumed[-1].c == Decimal("30500")
    assert resumed[-1].o == closes[-1]


def test_walk_mode_uses_scripted_closes_first() -> None:
    market = Market(MarketConfig(mode="walk", path=(Decimal("31234.56"),), steps_per_bar=2))
    bars = [k.k for k in of_kind(run(market, 4), "kline", BinanceKline) if k.k.x]
    assert bars[0].c == Decimal("31234.56")
    assert len(bars) == 2


@pytest.mark.parametrize("close", ["30000.001", "0", "-5"])
def test_path_rejects_closes_off_the_tick_grid_or_not_positive(close: str) -> None:
    market = Market(MarketConfig(mode="path"))
    with pytest.raises(ValueError, match="multiple of"):
        market.append_path("BTCUSDT", [Decimal(close)])


def test_same_seed_same_market_other_seed_other_market() -> None:
    def frames(seed: int) -> list[bytes]:
        return [encode(e.payload) for e in run(Market(MarketConfig(seed=seed, symbols=("BTCUSDT", "ETHUSDT"))), 30)]

    assert frames(7) == frames(7)
    assert frames(7) != frames(8)


def test_symbols_step_together_with_their_own_ids() -> None:
    market = Market(MarketConfig(symbols=("BTCUSDT", "ETHUSDT"), start_price=Decimal(2000)))
    events = run(market, 10)
    for symbol in ("BTCUSDT", "ETHUSDT"):
        trades = [e.payload for e in events if e.kind == "trade" and e.symbol == symbol]
        assert [t.t for t in trades] == list(range(1, len(trades) + 1))  # type: ignore[attr-defined]
        assert all(t.s == symbol for t in trades)  # type: ignore[attr-defined]


def test_history_preload_continues_after_the_last_bar(tmp_path: Path) -> None:
    # arrange
    csv = tmp_path / "bars.csv"
    csv.write_text(
        "open_time_ms,open,high,low,close,volume\n"
        "1596322800000,11783.31000000,11800.00000000,11700.00000000,11750.00000000,10.5\n"
        "1596326400000,11750.00000000,11760.00000000,11640.00000000,11650.12000000,12.0\n"
    )
    history = load_history_csv(csv, 3_600_000)
    market = Market(MarketConfig(interval="1h", history={"BTCUSDT": history}))
    # act
    events = market.step()
    # assert
    first_trade = of_kind(events, "trade", SimTrade)[0]
    kline = of_kind(events, "kline", BinanceKline)[0]
    assert kline.k.t == 1596326400000 + 3_600_000
    assert first_trade.p == Decimal("11650.12") == kline.k.o
    assert market.symbols["BTCUSDT"].bars.closed_count == 2


def test_agg_trades_query_like_binance() -> None:
    market = Market(MarketConfig())
    run(market, 20)
    symbol = market.symbols["BTCUSDT"]
    assert [r.a for r in symbol.agg_trades(3, None, None, 2)] == [3, 4]
    latest = symbol.agg_trades(None, None, None, 3)
    last = symbol.last_trade_id
    assert last is not None
    assert [r.a for r in latest] == [last - 2, last - 1, last]
    start = latest[0].T
    assert all(start <= r.T for r in symbol.agg_trades(None, start, None, 500))
    assert start - 1 >= symbol.agg_trades(None, None, start - 1, 1000)[-1].T


def test_too_many_steps_per_bar_for_the_interval_is_refused() -> None:
    with pytest.raises(ValueError, match="ms per step"):
        Market(MarketConfig(interval="1s", steps_per_bar=500))
