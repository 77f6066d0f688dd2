"""Position accounting is exact: weighted average entry, realized PnL, fees apart, cash."""

from __future__ import annotations

from decimal import Decimal

import pytest

from algo_common.domain.models import Side
from tests.unit.trader.trader_builders import make_fill
from trader.position import Oversell, Position, apply_fill, apply_fills, cash_balance


def test_two_buys_then_a_sell_give_exact_average_pnl_and_fees() -> None:
    # arrange
    fills = [
        make_fill(Side.BUY, "100", "0.5", fee="0.05", n=1),
        make_fill(Side.BUY, "110", "0.5", fee="0.055", n=2),
    ]
    sell = make_fill(Side.SELL, "120", "1", fee="0.12", n=3)
    # act
    held = apply_fills(Position(venue="paper", symbol="BTCUSDT"), fills, "USDT", now_ms=5)
    closed = apply_fill(held, sell, "USDT")
    # assert
    assert (held.qty, held.avg_entry_price, held.updated_at) == (Decimal("1"), Decimal("105"), 5)
    assert closed.qty == 0
    assert closed.realized_pnl == Decimal("15")
    assert closed.fees == Decimal("0.225")
    assert closed.avg_entry_price == 0


def test_partial_sell_keeps_average_and_realizes_its_share() -> None:
    # arrange
    held = Position(venue="paper", symbol="BTCUSDT", qty=Decimal("1"), avg_entry_price=Decimal("105"))
    # act
    after = apply_fill(held, make_fill(Side.SELL, "100", "0.25"), "USDT")
    # assert
    assert after.qty == Decimal("0.75")
    assert after.avg_entry_price == Decimal("105")
    assert after.realized_pnl == Decimal("-1.25")


def test_sell_beyond_position_is_refused() -> None:
    # arrange
    held = Position(venue="paper", symbol="BTCUSDT", qty=Decimal("0.5"), avg_entry_price=Decimal("100"))
    # act / assert
    with pytest.raises(Oversell):
        apply_fill(held, make_fill(Side.SELL, "100", "0.50000001"), "USDT")


def test_fee_in_another_asset_is_refused() -> None:
    # arrange
    fill = make_fill(Side.BUY, "100", "1")
    # act / assert
    with pytest.raises(ValueError, match="only fees in EUR"):
        apply_fill(Position(venue="paper", symbol="BTCUSDT"), fill, "EUR")


def test_cash_balance_after_a_round_trip_is_start_plus_pnl_minus_fees() -> None:
    # arrange
    start = Position(venue="paper", symbol="BTCUSDT")
    buys = apply_fills(start, [make_fill(Side.BUY, "100", "0.5", "0.05", 1)], "USDT", 1)
    eth = Position(venue="paper", symbol="ETHUSDT", qty=Decimal("2"), avg_entry_price=Decimal("10"), fees=Decimal("1"))
    # act
    while_holding = cash_balance(Decimal("10000"), [buys, eth])
    after_sell = cash_balance(Decimal("10000"), [apply_fill(buys, make_fill(Side.SELL, "120", "0.5", "0.06"), "USDT")])
    # assert
    assert while_holding == Decimal("10000") - Decimal("50") - Decimal("0.05") - Decimal("20") - Decimal("1")
    assert after_sell == Decimal("10000") + Decimal("10") - Decimal("0.11")
