"""The simulated account: exact fees and slippage, long-only sizing, refusals, fill conventions, end of data."""

from __future__ import annotations

from decimal import Decimal

import pytest

from algo_common.domain.models import Side
from processor.backtest import BacktestConfig, BarSeries, FillAt, run_event_driven
from processor.backtest.broker import SimulatedBroker
from processor.strategies.sma_cross import SmaCross
from tests.unit.processor.processor_builders import make_kline

HOUR = 3_600_000
T0 = 1_700_002_800_000  # an hour boundary


def hourly_series(prices: list[tuple[str, str]]) -> BarSeries:
    """Bars from (open, close) pairs."""
    return BarSeries.from_klines(
        [make_kline(T0 + i * HOUR, close, open=open_, interval="1h") for i, (open_, close) in enumerate(prices)]
    )


def test_a_round_trip_pays_slippage_and_fees_to_the_last_digit() -> None:
    # arrange
    broker = SimulatedBroker(
        BacktestConfig(cash=Decimal(1000), quantity=Decimal(2), fee_rate=Decimal("0.001"), slippage=Decimal("0.001"))
    )
    # act
    buy = broker.execute(Side.BUY, 0, 1, 10, Decimal(100))
    sell = broker.execute(Side.SELL, 5, 6, 60, Decimal(110))
    # assert: BUY 100.1 x 2 + fee 0.2002; SELL 109.89 x 2 - fee 0.21978
    assert buy is not None
    assert sell is not None
    assert (buy.price, buy.fee, buy.cash_after, buy.position_after) == (
        Decimal("100.1"),
        Decimal("0.2002"),
        Decimal("799.5998"),
        Decimal(2),
    )
    assert (sell.price, sell.fee, sell.cash_after, sell.position_after) == (
        Decimal("109.89"),
        Decimal("0.21978"),
        Decimal("1019.16002"),
        Decimal(0),
    )


def test_long_only_one_position_ignores_a_second_buy_and_a_sell_while_flat() -> None:
    # arrange
    broker = SimulatedBroker(BacktestConfig())
    # act
    results = [
        broker.execute(Side.SELL, 0, 1, 0, Decimal(10)),
        broker.execute(Side.BUY, 1, 2, 0, Decimal(10)),
        broker.execute(Side.BUY, 2, 3, 0, Decimal(11)),
    ]
    # assert
    assert [r is not None for r in results] == [False, True, False]
    assert broker.ignored == {"flat": 1, "already_long": 1}
    assert broker.position == Decimal(1)


def test_a_buy_the_cash_cannot_pay_is_refused_and_counted() -> None:
    # arrange: 100 cash, price 100 plus a 0.1 % fee
    broker = SimulatedBroker(BacktestConfig(cash=Decimal(100), fee_rate=Decimal("0.001")))
    # act
    fill = broker.execute(Side.BUY, 0, 1, 0, Decimal(100))
    # assert
    assert fill is None
    assert broker.ignored == {"insufficient_cash": 1}
    assert (broker.cash, broker.position) == (Decimal(100), Decimal(0))


@pytest.mark.parametrize(
    ("fill", "entry", "exit_"),
    [
        (FillAt.NEXT_OPEN, (4, Decimal(101)), (5, Decimal(98))),  # the next bar's open
        (FillAt.CLOSE, (3, Decimal(110)), (4, Decimal(100))),  # the deciding bar's close
    ],
)
def test_the_fill_convention_picks_the_price(
    fill: FillAt, entry: tuple[int, Decimal], exit_: tuple[int, Decimal]
) -> None:
    # arrange: SMA(1)/SMA(2) buys at bar 3 (110 > mean 105) and sells at bar 4 (100 < mean 105)
    series = hourly_series(
        [("100", "100"), ("100", "100"), ("100", "100"), ("100", "110"), ("101", "100"), ("98", "90"), ("99", "85")]
    )
    # act
    result = run_event_driven(series, SmaCross(1, 2), BacktestConfig(fill=fill))
    # assert
    (trade,) = result.trades
    assert trade.exit is not None
    assert ((trade.entry.bar, trade.entry.price), (trade.exit.bar, trade.exit.price)) == (entry, exit_)
    assert trade.pnl == exit_[1] - entry[1]


def test_a_decision_on_the_last_bar_is_never_filled_at_the_next_open() -> None:
    # arrange: the cross up happens on the last bar
    series = hourly_series([("100", "100"), ("100", "100"), ("100", "110")])
    # act
    result = run_event_driven(series, SmaCross(1, 2), BacktestConfig())
    # assert
    assert result.fills == []
    assert result.summary.signals == 1
    assert result.summary.ignored_signals == {"end_of_data": 1}
    assert result.summary.final_equity == Decimal(1_000_000)


@pytest.mark.parametrize(
    "changes", [{"cash": Decimal(0)}, {"quantity": Decimal(-1)}, {"fee_rate": Decimal(1)}, {"slippage": Decimal("NaN")}]
)
def test_the_config_refuses_impossible_values(changes: dict[str, Decimal]) -> None:
    with pytest.raises(ValueError, match="must be"):
        BacktestConfig(**changes)  # type: ignore[arg-type]
