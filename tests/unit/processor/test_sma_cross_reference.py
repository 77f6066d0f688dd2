"""The SMA crossover strategy over the real hourly file reproduces the reference backtest exactly.

The loop here is the README's rule: long only, 1 BTC, filled at the next bar's open, no fees;
a signal on the last bar is never filled; equity marks an open position at the last close.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from algo_common.domain.models import Kline, Side
from processor.strategies.sma_cross import SmaCross

CASH = Decimal(1_000_000)
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Trade:
    entry_bar: int
    entry_price: Decimal
    exit_bar: int | None = None
    exit_price: Decimal | None = None

    @property
    def pnl(self) -> Decimal:
        assert self.exit_price is not None
        return self.exit_price - self.entry_price


@dataclass(frozen=True)
class Result:
    closed: list[Trade]
    open_trade: Trade | None
    equity: Decimal


def backtest(bars: list[Kline], fast: int, slow: int) -> Result:
    strategy = SmaCross(fast, slow)
    closed: list[Trade] = []
    position: Trade | None = None
    pending: Side | None = None
    for i, bar in enumerate(bars):
        if pending is Side.BUY and position is None:
            position = Trade(i, bar.open)
        elif pending is Side.SELL and position is not None:
            closed.append(Trade(position.entry_bar, position.entry_price, i, bar.open))
            position = None
        decision = strategy.on_bar(bar)
        pending = decision.side if decision is not None else None
    realized = sum((t.pnl for t in closed), Decimal(0))
    unrealized = bars[-1].close - position.entry_price if position is not None else Decimal(0)
    return Result(closed, position, CASH + realized + unrealized)


@pytest.mark.parametrize(
    ("fast", "slow", "trades", "winners", "equity", "first", "last"),
    [
        (
            10,
            30,
            157,
            58,
            "1020688.98",
            (37, 1596456000000, "11231.15", 60, "11220.59"),
            (7394, 1622984400000, "35869.80", 7425, "35634.45"),
        ),
        (
            50,
            200,
            20,
            9,
            "1028584.70",
            (318, 1597467600000, "11863.66", 449, "11854.34"),
            (7310, 1622682000000, "37469.32", 7388, "35851.36"),
        ),
    ],
)
def test_crossover_backtest_reproduces_the_reference_numbers(
    hourly_bars: list[Kline],
    fast: int,
    slow: int,
    trades: int,
    winners: int,
    equity: str,
    first: tuple[int, int, str, int, str],
    last: tuple[int, int, str, int, str],
) -> None:
    # act
    result = backtest(hourly_bars, fast, slow)
    # assert
    assert len(result.closed) == trades
    assert sum(1 for t in result.closed if t.pnl > 0) == winners
    assert result.equity.quantize(CENT) == Decimal(equity)
    for trade, (entry_bar, entry_time, entry_price, exit_bar, exit_price) in (
        (result.closed[0], first),
        (result.closed[-1], last),
    ):
        assert (trade.entry_bar, trade.exit_bar) == (entry_bar, exit_bar)
        assert hourly_bars[trade.entry_bar].open_time == entry_time
        assert (trade.entry_price, trade.exit_price) == (Decimal(entry_price), Decimal(exit_price))


def test_sma_10_30_ends_with_the_reference_open_position(hourly_bars: list[Kline]) -> None:
    # act
    result = backtest(hourly_bars, 10, 30)
    # assert
    assert result.open_trade is not None
    assert (result.open_trade.entry_bar, result.open_trade.entry_price) == (7456, Decimal("32870.77"))
    assert hourly_bars[-1].close - result.open_trade.entry_price == Decimal("4517.28")
    assert sum((t.pnl for t in result.closed), Decimal(0)) == Decimal("16171.70")


def test_sma_50_200_ends_flat_with_the_reference_realized_pnl(hourly_bars: list[Kline]) -> None:
    # act
    result = backtest(hourly_bars, 50, 200)
    # assert
    assert result.open_trade is None
    assert sum((t.pnl for t in result.closed), Decimal(0)) == Decimal("28584.70")
