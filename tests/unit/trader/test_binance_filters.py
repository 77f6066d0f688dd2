"""Exchange filters before sending: quantities rounded down to the step, refusals with a reason."""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pytest

from tests.unit.trader.binance_payloads import EXCHANGE_INFO
from trader.venues.binance.filters import QtyRule, SymbolRules, prepare_market_quantity, round_down, to_rules
from trader.venues.binance.schemas import BinanceExchangeInfo, BinanceFilter, BinanceSymbol


def _btcusdt() -> SymbolRules:
    info = msgspec.json.decode(EXCHANGE_INFO, type=BinanceExchangeInfo)
    return to_rules(info.symbols[0])


def test_exchange_info_filters_are_read_and_unknown_ones_ignored() -> None:
    # act
    rules = _btcusdt()
    # assert
    assert rules.tick_size == Decimal("0.01")
    assert rules.lot == QtyRule(Decimal("0.00001"), Decimal("9000"), Decimal("0.00001"))
    assert rules.market_lot == QtyRule(Decimal(0), Decimal("100"), Decimal(0))
    assert (rules.min_notional, rules.max_notional) == (Decimal(5), Decimal(0))  # max not applied to MARKET
    assert (rules.base_asset, rules.quote_asset) == ("BTC", "USDT")


@pytest.mark.parametrize(
    ("value", "step", "expected"),
    [
        ("0.0123456", "0.00001", "0.01234"),
        ("0.01234", "0.00001", "0.01234"),
        ("0.000009", "0.00001", "0"),
        ("7", "2", "6"),
        ("1.99", "0", "1.99"),
    ],
)
def test_round_down_to_the_step_exactly(value: str, step: str, expected: str) -> None:
    # act
    rounded = round_down(Decimal(value), Decimal(step))
    # assert
    assert rounded == Decimal(expected)


def test_a_quantity_is_rounded_down_never_up() -> None:
    # act
    prepared = prepare_market_quantity(_btcusdt(), Decimal("0.0123499999"), Decimal("30000"))
    # assert
    assert prepared.reject_reason is None
    assert prepared.quantity == Decimal("0.01234")
    assert f"{prepared.quantity:f}" == "0.01234000"


@pytest.mark.parametrize(
    ("quantity", "price", "reason"),
    [
        ("0.000004", "30000", "filter LOT_SIZE: quantity 0 (from 0.000004) below minQty 0.00001"),
        ("0.0001", "30000", "filter NOTIONAL: notional 3 below minNotional 5"),
        ("150", "30000", "filter MARKET_LOT_SIZE: quantity 150 above maxQty 100"),
    ],
)
def test_an_order_breaking_a_filter_is_refused_with_the_rule_named(quantity: str, price: str, reason: str) -> None:
    # act
    prepared = prepare_market_quantity(_btcusdt(), Decimal(quantity), Decimal(price))
    # assert
    assert prepared.reject_reason == reason


def test_a_symbol_that_is_not_trading_is_refused() -> None:
    # arrange
    info = BinanceSymbol(symbol="BTCUSDT", status="HALT", baseAsset="BTC", quoteAsset="USDT", filters=[])
    # act
    prepared = prepare_market_quantity(to_rules(info), Decimal("1"), Decimal("30000"))
    # assert
    assert prepared.reject_reason == "symbol BTCUSDT is HALT, not TRADING"


def test_min_notional_counts_for_market_orders_only_when_applied_to_market() -> None:
    # arrange
    filters = [BinanceFilter(filterType="MIN_NOTIONAL", minNotional=Decimal(10), applyToMarket=False)]
    ignored = to_rules(BinanceSymbol("BTCUSDT", "TRADING", "BTC", "USDT", filters))
    applied_filter = [BinanceFilter(filterType="MIN_NOTIONAL", minNotional=Decimal(10), applyToMarket=True)]
    applied = to_rules(BinanceSymbol("BTCUSDT", "TRADING", "BTC", "USDT", applied_filter))
    # act / assert
    assert prepare_market_quantity(ignored, Decimal(1), Decimal(1)).reject_reason is None
    assert prepare_market_quantity(applied, Decimal(1), Decimal(1)).reject_reason is not None
