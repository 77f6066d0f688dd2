"""The numpy indicator building blocks: the blocked linear recurrence and the edges of the history."""

from __future__ import annotations

import numpy as np
import pytest

from processor import vector_indicators as vi


def naive_recurrence(values: list[float], decay: float, weight: float, initial: float) -> list[float]:
    out, y = [], initial
    for v in values:
        y = decay * y + weight * v
        out.append(y)
    return out


@pytest.mark.parametrize(("decay", "length"), [(1 / 3, 5_000), (0.5, 3_000), (199 / 201, 20_000), (13 / 14, 777)])
def test_blocked_linear_recurrence_equals_the_plain_loop_across_many_blocks(decay: float, length: int) -> None:
    # arrange: positive prices, long enough for many blocks (block length ~ 230 for decay 1/3)
    rng = np.random.default_rng(7)
    values = 30_000 * np.exp(np.cumsum(rng.normal(0, 0.01, length)))
    # act
    blocked = vi.linear_recurrence(values, decay, 1 - decay, 29_000.0)
    # assert
    np.testing.assert_allclose(blocked, naive_recurrence(values.tolist(), decay, 1 - decay, 29_000.0), rtol=1e-12)


def test_linear_recurrence_with_zero_decay_is_the_weighted_input() -> None:
    # act
    out = vi.linear_recurrence(np.array([1.0, 2.0, 4.0]), 0.0, 1.0, 99.0)
    # assert: an EMA of period 1 is the series itself
    assert out.tolist() == [1.0, 2.0, 4.0]


@pytest.mark.parametrize("function", [vi.sma, vi.ema, vi.rsi])
def test_a_history_shorter_than_the_period_gives_no_value(function: object) -> None:
    # arrange
    values = np.array([1.0, 2.0, 3.0])
    # act
    out = function(values, 5)  # type: ignore[operator]
    # assert
    assert out.shape == (3,)
    assert np.isnan(out).all()


def test_ema_of_period_one_is_the_series_and_rsi_of_a_flat_series_is_zero() -> None:
    # arrange
    values = np.array([3.0, 1.0, 4.0, 1.0, 5.0])
    # act / assert
    assert vi.ema(values, 1).tolist() == values.tolist()
    assert vi.rsi(np.full(6, 7.0), 3)[3:].tolist() == [0.0, 0.0, 0.0]


def test_window_sums_are_exact_even_when_the_running_total_wraps_around_int64() -> None:
    # arrange: a cumulative sum far beyond int64, windows that fit
    values = np.full(10, 2**61, dtype=np.int64)
    values[5] = 7
    # act
    sums = vi.window_sums(values, 2)
    # assert
    assert sums.tolist() == [2**62] * 4 + [2**61 + 7, 2**61 + 7] + [2**62] * 3


def test_sma_cross_sides_refuses_inconsistent_periods() -> None:
    with pytest.raises(ValueError, match="fast < slow"):
        vi.sma_cross_sides(np.arange(10, dtype=np.int64), 5, 5)
