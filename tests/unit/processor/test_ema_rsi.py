"""EMA and RSI seeding and rounding, and the ema_rsi strategy on hand-made price paths."""

from __future__ import annotations

from decimal import Decimal

import pytest

from algo_common.domain.models import Side
from processor.indicators import EMA, RSI
from processor.strategies import STRATEGIES, build_strategy
from processor.strategies.base import Decision
from processor.strategies.ema_rsi import WARMUP_FACTOR, EmaRsi
from tests.unit.processor.processor_builders import make_kline

MINUTE = 60_000
T0 = 1_700_000_040_000


def feed(indicator: EMA | RSI, values: list[str]) -> list[Decimal | None]:
    return [indicator.update(Decimal(v)) for v in values]


def test_ema_starts_with_the_sma_of_the_first_period_values_then_smooths_with_two_over_n_plus_one() -> None:
    # act
    values = feed(EMA(3), ["1", "2", "6", "10", "4"])
    # assert: seed (1+2+6)/3 = 3; then 3 + 0.5 * (10 - 3) = 6.5; then 6.5 + 0.5 * (4 - 6.5) = 5.25
    assert values == [None, None, Decimal(3), Decimal("6.5"), Decimal("5.25")]


def test_ema_rounds_once_per_update_to_28_significant_digits() -> None:
    # act: alpha = 2/11; (2 * 1 + 9 * 3) / 11 = 29/11
    values = feed(EMA(10), ["3"] * 10 + ["1"])
    # assert
    assert values[-1] == Decimal("2.636363636363636363636363636")


def test_rsi_starts_after_period_changes_with_plain_means_then_wilder_smoothing() -> None:
    # act: changes +2, -1 -> gain 1, loss 0.5 -> RSI 66.67; then +3: gain (1+3)/2 = 2, loss 0.25 -> 88.89
    values = feed(RSI(2), ["10", "12", "11", "14"])
    # assert
    assert values[:2] == [None, None]
    assert values[2] == Decimal("66.66666666666666666666666667")
    assert values[3] == Decimal("88.88888888888888888888888889")


def test_rsi_is_0_when_prices_never_move_like_talib_and_100_when_they_only_rise() -> None:
    # act
    flat = feed(RSI(3), ["5"] * 6)
    rising = feed(RSI(3), ["1", "2", "3", "4", "5"])
    # assert
    assert flat[3:] == [Decimal(0)] * 3
    assert rising[3:] == [Decimal(100)] * 2


@pytest.mark.parametrize(("cls", "period"), [(EMA, 0), (RSI, 1)])
def test_a_too_short_period_is_refused(cls: type[EMA] | type[RSI], period: int) -> None:
    with pytest.raises(ValueError, match="period"):
        cls(period)


def run(closes: list[str], overbought: str = "70") -> list[Decision | None]:
    strategy = EmaRsi(2, 3, 2, Decimal(overbought))
    return [strategy.on_bar(make_kline(T0 + i * MINUTE, close)) for i, close in enumerate(closes)]


# EMA(2)/EMA(3)/RSI(2) on this path: both EMAs tie at 10 on bar 2, the fast one falls below on
# bar 3 (RSI 0), crosses up on bar 5 (fast 11.63 > slow 11, RSI exactly 90) and down on bar 7 (RSI 18).
PATH = ["10", "10", "10", "8", "9", "13", "11", "7"]


def sides(decisions: list[Decision | None]) -> list[tuple[int, Side]]:
    return [(i, d.side) for i, d in enumerate(decisions) if d is not None]


def test_a_cross_up_below_the_overbought_level_buys_and_each_cross_down_sells() -> None:
    # act
    decisions = run(PATH, overbought="95")
    # assert
    assert sides(decisions) == [(3, Side.SELL), (5, Side.BUY), (7, Side.SELL)]
    buy = decisions[5]
    assert buy is not None
    assert buy.indicators == {
        "fast": Decimal("11.62962962962962962962962963"),
        "slow": Decimal(11),
        "rsi": Decimal(90),
    }


def test_a_cross_up_at_the_overbought_level_is_skipped_but_the_cross_down_still_sells() -> None:
    # act: RSI is exactly 90 at the cross up; the filter is strict (RSI < overbought)
    decisions = run(PATH, overbought="90")
    # assert
    assert sides(decisions) == [(3, Side.SELL), (7, Side.SELL)]


def test_ema_rsi_is_registered_with_its_params_in_the_signal_identity() -> None:
    # act
    strategy = build_strategy("ema_rsi", 12, 26, rsi_period=14, rsi_overbought=Decimal("72.5"))
    # assert
    assert "ema_rsi" in STRATEGIES
    assert (strategy.name, strategy.version) == ("ema_rsi", "1")
    assert strategy.params() == {"fast": "12", "slow": "26", "rsi": "14", "overbought": "72.5"}
    assert strategy.warmup_bars == WARMUP_FACTOR * 26 + 1


@pytest.mark.parametrize(
    ("fast", "slow", "rsi", "overbought"),
    [(26, 12, 14, "70"), (12, 26, 1, "70"), (12, 26, 14, "0"), (12, 26, 14, "101")],
)
def test_ema_rsi_refuses_inconsistent_params(fast: int, slow: int, rsi: int, overbought: str) -> None:
    with pytest.raises(ValueError, match="need"):
        EmaRsi(fast, slow, rsi, Decimal(overbought))
