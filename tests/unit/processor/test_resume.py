"""A strategy resumed from a saved state continues exactly like one that never stopped. Pure."""

from __future__ import annotations

import random
from decimal import Decimal

import msgspec

from algo_common.domain.models import Kline
from processor.bars import BarBuilder
from processor.pipeline import SymbolPipeline
from processor.strategies.base import Resumable
from processor.strategies.ema_rsi import EmaRsi
from processor.strategies.sma_cross import SmaCross
from tests.unit.processor.processor_builders import make_kline

MINUTE = 60_000
T0 = 1_700_000_040_000


def random_walk(n: int, seed: int = 7) -> list[Kline]:
    rng = random.Random(seed)
    price = Decimal(100)
    bars = []
    for i in range(n):
        price += Decimal(rng.randint(-300, 300)) / 100
        bars.append(make_kline(T0 + i * MINUTE, price))
    return bars


def test_ema_rsi_resumed_from_its_saved_state_decides_exactly_like_the_uninterrupted_run() -> None:
    # arrange
    bars = random_walk(400)
    uninterrupted = EmaRsi(3, 8, 4, Decimal(70))
    expected = [uninterrupted.on_bar(bar) for bar in bars]
    first = EmaRsi(3, 8, 4, Decimal(70))
    before = [first.on_bar(bar) for bar in bars[:250]]
    # act: the state goes through MongoDB as strings (a BSON-like round trip through JSON here)
    saved = msgspec.json.decode(msgspec.json.encode(first.save_state()), type=dict[str, str])
    resumed = EmaRsi(3, 8, 4, Decimal(70))
    resumed.load_state(saved)
    after = [resumed.on_bar(bar) for bar in bars[250:]]
    # assert: the same decisions with the same indicator values, to the last digit
    assert before + after == expected
    assert sum(d is not None for d in after) >= 3


def test_a_fresh_ema_rsi_state_round_trips_with_none_values() -> None:
    # arrange
    strategy = EmaRsi(2, 3, 2, Decimal(95))
    # act
    state = strategy.save_state()
    copy = EmaRsi(2, 3, 2, Decimal(95))
    copy.load_state(state)
    # assert
    assert copy.save_state() == state
    assert (state["fast_value"], state["cross_above"]) == ("", "")


def test_ema_rsi_is_resumable_and_sma_cross_rebuilds_from_its_window() -> None:
    assert isinstance(EmaRsi(2, 3, 2, Decimal(95)), Resumable)
    assert not isinstance(SmaCross(2, 4), Resumable)


def test_a_pipeline_resumed_after_a_bar_continues_its_bars_and_decisions_exactly() -> None:
    # arrange: 5m bars; the checkpoint is the close of the 40th bar
    klines = random_walk(600, seed=3)
    whole = SymbolPipeline("BTCUSDT", "5m", EmaRsi(2, 5, 3, Decimal(80)), capture_state=True)
    outcomes = [o for k in klines for o in whole.on_kline(k)]
    checkpoint = outcomes[39]
    assert checkpoint.state is not None
    # act
    resumed = SymbolPipeline("BTCUSDT", "5m", EmaRsi(2, 5, 3, Decimal(80)), capture_state=True)
    assert resumed.resume(checkpoint.bar.close_time, checkpoint.state)
    later = [o for k in klines if k.open_time > checkpoint.bar.close_time for o in resumed.on_kline(k)]
    # assert
    assert later == outcomes[40:]


def test_a_bar_builder_resumed_after_a_bar_ignores_klines_up_to_it() -> None:
    # arrange
    builder = BarBuilder("BTCUSDT", "5m")
    bar_close = (T0 // (5 * MINUTE) + 1) * 5 * MINUTE - 1  # the close of the 5m bar T0 falls in
    # act
    builder.resume_after(bar_close)
    # assert
    assert not builder.accepts(make_kline(bar_close + 1 - MINUTE, "1"))
    assert builder.accepts(make_kline(bar_close + 1, "1"))
