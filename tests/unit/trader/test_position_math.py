"""Position accounting is exact: quantity held, cost basis paid, realized PnL, fees apart, cash."""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pytest

from algo_common.domain.models import Fill, Side
from tests.unit.trader.trader_builders import make_fill
from trader.position import Oversell, Position, apply_fill, apply_fills, cash_balance

ZERO = Decimal(0)


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


def test_a_symbol_not_quoted_in_the_quote_asset_is_refused() -> None:
    # arrange
    fill = make_fill(Side.BUY, "100", "1")
    # act / assert
    with pytest.raises(ValueError, match="BTCUSDT is not quoted in EUR"):
        apply_fill(Position(venue="paper", symbol="BTCUSDT"), fill, "EUR")


def _fill(side: Side, price: str, qty: str, fee: str, asset: str, n: int = 1) -> Fill:
    return msgspec.structs.replace(make_fill(side, price, qty, fee=fee, n=n), fee_asset=asset)


def test_worked_example_base_commission_buy_then_sell_all_is_exact() -> None:
    # arrange: docs/architecture.md "Position accounting": the account receives 0.01 - 0.00001 BTC for 300 USDT
    buy = _fill(Side.BUY, "30000", "0.01", "0.00001", "BTC", n=1)
    sell = _fill(Side.SELL, "31000", "0.00999", "0.30969", "USDT", n=2)
    # act
    held = apply_fill(Position(venue="binance", symbol="BTCUSDT"), buy, "USDT")
    closed = apply_fill(held, sell, "USDT")
    # assert: the quantity is what the account holds; the cost basis what was paid; the fee counted once
    assert (held.qty, held.cost_basis, held.fees) == (Decimal("0.00999"), Decimal("300.00"), ZERO)
    assert held.avg_entry_price == Decimal("300") / Decimal("0.00999")
    assert held.commissions == {"BTC": Decimal("0.00001")}
    assert (closed.qty, closed.cost_basis, closed.avg_entry_price) == (ZERO, ZERO, ZERO)
    assert closed.realized_pnl == Decimal("9.69")  # 309.69 received - 300 paid, to the last digit
    assert closed.fees == Decimal("0.30969")
    assert closed.realized_pnl - closed.fees == Decimal("309.69") - Decimal("0.30969") - Decimal("300")


def test_a_partial_sell_after_a_base_commission_releases_its_share_of_the_cost() -> None:
    # arrange
    held = apply_fill(Position(venue="binance", symbol="BTCUSDT"), _fill(Side.BUY, "100", "1", "0.001", "BTC"), "USDT")
    # act
    half = apply_fill(held, _fill(Side.SELL, "110", "0.4995", "0.0549450", "USDT", n=2), "USDT")
    rest = apply_fill(half, _fill(Side.SELL, "90", "0.4995", "0.044955", "USDT", n=3), "USDT")
    # assert
    assert (half.qty, half.cost_basis, half.avg_entry_price) == (Decimal("0.4995"), Decimal(50), held.avg_entry_price)
    assert half.realized_pnl == Decimal("4.945")  # 54.945 - 50
    assert (rest.qty, rest.cost_basis) == (ZERO, ZERO)
    assert rest.realized_pnl == Decimal("54.945") + Decimal("44.955") - Decimal("100")
    assert rest.fees == Decimal("0.099900")


def test_selling_more_than_received_after_a_base_commission_is_an_oversell() -> None:
    # arrange
    held = apply_fill(Position(venue="binance", symbol="BTCUSDT"), _fill(Side.BUY, "100", "1", "0.001", "BTC"), "USDT")
    # act / assert
    with pytest.raises(Oversell):
        apply_fill(held, _fill(Side.SELL, "100", "1", "0.1", "USDT", n=2), "USDT")


def test_a_commission_in_a_third_asset_is_recorded_and_left_out_of_the_quote_pnl() -> None:
    # arrange
    buy = _fill(Side.BUY, "100", "1", "0.00025", "BNB", n=1)
    sell = _fill(Side.SELL, "120", "1", "0.0003", "BNB", n=2)
    # act
    held = apply_fill(Position(venue="binance", symbol="BTCUSDT"), buy, "USDT")
    closed = apply_fill(held, sell, "USDT")
    # assert
    assert (held.qty, held.avg_entry_price, held.fees) == (Decimal("1"), Decimal("100"), ZERO)
    assert (closed.realized_pnl, closed.fees) == (Decimal("20"), ZERO)
    assert closed.commissions == {"BNB": Decimal("0.00055")}


def test_a_sell_commission_in_the_base_asset_leaves_its_cost_with_the_rest() -> None:
    # arrange: a venue configured to charge a SELL in the base asset
    held = Position(venue="binance", symbol="BTCUSDT", qty=Decimal(1), avg_entry_price=Decimal(100))
    # act
    after = apply_fill(held, _fill(Side.SELL, "120", "0.5", "0.001", "BTC"), "USDT")
    closed = apply_fill(after, _fill(Side.SELL, "120", "0.499", "0", "USDT", n=2), "USDT")
    # assert
    assert (after.qty, after.cost_basis, after.realized_pnl) == (Decimal("0.499"), Decimal(50), Decimal(10))
    assert after.avg_entry_price == Decimal(50) / Decimal("0.499")
    assert closed.realized_pnl == Decimal("60") + Decimal("59.880") - Decimal("100")


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
