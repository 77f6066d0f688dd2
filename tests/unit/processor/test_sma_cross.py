"""The crossover rule on hand-made price paths: one BUY, one SELL, and the documented tie rule."""

from __future__ import annotations

from decimal import Decimal

import pytest

from algo_common.domain.models import Side
from processor.strategies import build_strategy
from processor.strategies.base import Decision
from processor.strategies.sma_cross import SmaCross
from tests.unit.processor.processor_builders import make_kline

MINUTE = 60_000
T0 = 1_700_000_040_000


def run(closes: list[str], fast: int = 2, slow: int = 4) -> list[Decision | None]:
    strategy = SmaCross(fast, slow)
    return [strategy.on_bar(make_kline(T0 + i * MINUTE, close)) for i, close in enumerate(closes)]


def test_one_cross_up_and_one_cross_down_give_exactly_buy_then_sell() -> None:
    # arrange
    closes = ["100", "100", "100", "100", "100", "104", "104", "104", "96", "96"]
    # act
    decisions = run(closes)
    # assert
    assert [i for i, d in enumerate(decisions) if d is not None] == [5, 8]
    assert decisions[5] == Decision(Side.BUY, {"fast": Decimal(102), "slow": Decimal(101)})
    assert decisions[8] == Decision(Side.SELL, {"fast": Decimal(100), "slow": Decimal(102)})


def test_a_tie_on_the_previous_bar_counts_as_not_yet_crossed() -> None:
    # arrange: bars 3 and 4 have fast == slow exactly; bar 5 is strictly above
    closes = ["100", "100", "100", "100", "100", "104"]
    # act
    decisions = run(closes)
    # assert
    assert decisions[4] is None
    assert decisions[5] is not None
    assert decisions[5].side is Side.BUY


def test_a_tie_on_the_current_bar_never_decides() -> None:
    # arrange: bar 3 f=95 < s=97.5; bar 4 f=100 == s=100 (touch from below)
    closes = ["100", "100", "100", "90", "110"]
    # act
    decisions = run(closes)
    # assert
    assert decisions == [None] * len(closes)


def test_touching_from_below_then_falling_back_is_a_sell() -> None:
    # arrange: as above, then bar 5 f=90 < s=92.5; the tie on bar 4 satisfies "f >= s"
    closes = ["100", "100", "100", "90", "110", "70"]
    # act
    decisions = run(closes)
    # assert
    assert decisions[:5] == [None] * 5
    assert decisions[5] == Decision(Side.SELL, {"fast": Decimal(90), "slow": Decimal("92.5")})


def test_no_decision_until_both_smas_exist_on_previous_and_current_bar() -> None:
    # arrange: bar 3 is the first with SMA(4); fast > slow there already, after being "below" undefined
    closes = ["100", "90", "80", "120", "130"]
    # act
    decisions = run(closes)
    # assert: bar 3 cannot decide (no previous SMA(4)); bar 4 has f=125 > s=105 but was above already
    assert decisions == [None] * len(closes)


def test_params_and_identity_of_the_strategy() -> None:
    # act
    strategy = build_strategy("sma_cross", 50, 200)
    # assert
    assert (strategy.name, strategy.version, strategy.params()) == ("sma_cross", "1", {"fast": "50", "slow": "200"})
    assert strategy.warmup_bars == 201


@pytest.mark.parametrize(("fast", "slow"), [(0, 5), (5, 5), (6, 5)])
def test_invalid_periods_are_rejected(fast: int, slow: int) -> None:
    with pytest.raises(ValueError, match="fast < slow"):
        SmaCross(fast, slow)


def test_unknown_strategy_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown strategy"):
        build_strategy("ema_cross", 1, 2)
