"""One crossover rule everywhere: CrossDetector, the inlined SmaCross and the numpy signals agree, ties included."""

from __future__ import annotations

from decimal import Context, Decimal, localcontext

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from algo_common.domain.models import Side
from processor.indicators import SMA
from processor.strategies.cross import CrossDetector
from processor.strategies.sma_cross import SmaCross
from processor.vector_indicators import BUY, SELL, sma_cross_sides
from tests.unit.processor.processor_builders import make_kline

T0 = 1_700_000_040_000
MINUTE = 60_000

# Small integer prices make exact ties between the averages frequent.
paths = st.lists(st.integers(min_value=1, max_value=6), min_size=0, max_size=80)
periods = st.tuples(st.integers(1, 6), st.integers(2, 12)).filter(lambda p: p[0] < p[1])


def detector_sides(pairs: list[tuple[int, int]]) -> list[Side | None]:
    detector = CrossDetector()
    return [detector.update(Decimal(f), Decimal(s)) for f, s in pairs]


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        ([(1, 2), (3, 2)], [None, Side.BUY]),  # from below to above
        ([(3, 2), (1, 2)], [None, Side.SELL]),  # from above to below
        ([(2, 2), (3, 2)], [None, Side.BUY]),  # a previous tie counts as "at or below"
        ([(2, 2), (1, 2)], [None, Side.SELL]),  # ... and as "at or above"
        ([(1, 2), (2, 2), (1, 2)], [None, None, Side.SELL]),  # touching from below, falling back
        ([(1, 2), (2, 2)], [None, None]),  # a current tie never decides
        ([(3, 2)], [None]),  # the first pair only sets the state
        ([(3, 2), (4, 2), (5, 2)], [None, None, None]),  # staying above decides nothing
    ],
)
def test_cross_detector_rule(pairs: list[tuple[int, int]], expected: list[Side | None]) -> None:
    # act / assert
    assert detector_sides(pairs) == expected


def sma_cross_decisions(closes: list[int], fast: int, slow: int) -> list[Side | None]:
    strategy = SmaCross(fast, slow)
    decisions = [strategy.on_bar(make_kline(T0 + i * MINUTE, str(c))) for i, c in enumerate(closes)]
    return [d.side if d else None for d in decisions]


def reference_decisions(closes: list[int], fast: int, slow: int) -> list[Side | None]:
    """SMA indicators (exact means) fed to CrossDetector: the rule without any inlining."""
    fast_sma, slow_sma, detector = SMA(fast), SMA(slow), CrossDetector()
    out: list[Side | None] = []
    for close in closes:
        f, s = fast_sma.update(Decimal(close)), slow_sma.update(Decimal(close))
        out.append(None if f is None or s is None else detector.update(f, s))
    return out


@settings(max_examples=300, deadline=None)
@given(closes=paths, fast_slow=periods)
def test_inlined_sma_cross_equals_sma_indicators_with_the_cross_detector(
    closes: list[int], fast_slow: tuple[int, int]
) -> None:
    # act / assert
    assert sma_cross_decisions(closes, *fast_slow) == reference_decisions(closes, *fast_slow)


@settings(max_examples=300, deadline=None)
@given(closes=paths, fast_slow=periods)
def test_numpy_signals_equal_sma_cross_bar_for_bar(closes: list[int], fast_slow: tuple[int, int]) -> None:
    # arrange
    expected = [{Side.BUY: BUY, Side.SELL: SELL, None: 0}[s] for s in sma_cross_decisions(closes, *fast_slow)]
    # act
    sides = sma_cross_sides(np.array(closes, dtype=np.int64), *fast_slow)
    # assert
    assert sides.tolist() == expected


def test_numpy_signals_stay_exact_when_int64_products_could_overflow() -> None:
    # arrange: prices near 2**60 make sum * period overflow int64; the rule moves to Python integers
    base = 2**60
    closes = [base + d for d in (0, 0, 0, 3, -5, 2, 2, -1, 4, 0)]
    expected = [{Side.BUY: BUY, Side.SELL: SELL, None: 0}[s] for s in reference_decisions(closes, 2, 3)]
    # act
    sides = sma_cross_sides(np.array(closes, dtype=np.int64), 2, 3)
    # assert
    assert any(expected)
    assert sides.tolist() == expected


def test_sma_cross_is_exact_whatever_the_callers_decimal_context() -> None:
    # arrange: SMA(1)/SMA(2) (fast above slow exactly when the close rises) under a 5-digit context
    closes = ["35917.88234567", "36138.57312345", "36369.14512345", "36001.00000001", "36500.5", "35000.25"]
    bars = [make_kline(T0 + i * MINUTE, c) for i, c in enumerate(closes)]
    strategy = SmaCross(1, 2)
    # act
    with localcontext(Context(prec=5)):
        decisions = [strategy.on_bar(b) for b in bars]
    # assert: 14- and 15-digit values, untouched by the caller's 5 digits
    assert [d.side if d else None for d in decisions] == [None, None, None, Side.SELL, Side.BUY, Side.SELL]
    buy = decisions[4]
    assert buy is not None
    assert buy.indicators == {"fast": Decimal("36500.5"), "slow": Decimal("36250.750000005")}
