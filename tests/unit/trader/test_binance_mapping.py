"""Binance answers and user data events -> OrderResult: statuses, fills by trade id, commissions as charged."""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pytest

from algo_common.binance.trading_schemas import (
    BinanceExecutionReport,
    BinanceMyTrade,
    BinanceOrder,
    BinanceOrderResult,
    BinanceUserDataMessage,
)
from algo_common.domain.models import OrderStatus, Side
from tests.unit.trader.binance_payloads import (
    EXECUTION_REPORT_CANCELED,
    EXECUTION_REPORT_NEW,
    EXECUTION_REPORT_TRADE,
    FULL_RESPONSE,
)
from trader.venues.binance.filters import SymbolRules
from trader.venues.binance.mapping import (
    commission,
    from_execution_report,
    from_order_response,
    from_query,
    to_status,
)

RULES = SymbolRules(symbol="BTCUSDT", status="TRADING", base_asset="BTC", quote_asset="USDT")


def _report(raw: bytes) -> BinanceExecutionReport:
    message = msgspec.json.decode(raw, type=BinanceUserDataMessage)
    return msgspec.json.decode(message.event, type=BinanceExecutionReport)


def test_a_full_order_response_maps_every_fill_with_its_trade_id() -> None:
    # arrange
    response = msgspec.json.decode(FULL_RESPONSE, type=BinanceOrderResult)
    # act
    result = from_order_response(response, RULES)
    # assert
    assert result.client_order_id == "6gCrw2kRUAF9CvJDGP16IP"
    assert result.status is OrderStatus.FILLED
    assert [f.fill_id for f in result.fills] == [f"6gCrw2kRUAF9CvJDGP16IP-{t}" for t in range(56, 61)]
    assert sum(f.qty for f in result.fills) == Decimal(10)
    assert sum(f.price * f.qty for f in result.fills) == Decimal("39983")
    first = result.fills[0]
    assert (first.side, first.price, first.qty, first.fee, first.fee_asset, first.ts) == (
        Side.SELL,
        Decimal("4000"),
        Decimal(1),
        Decimal(4),
        "USDT",
        1507725176595,
    )
    assert all(isinstance(f.fee, Decimal) for f in result.fills)


@pytest.mark.parametrize(
    ("amount", "asset", "expected"),
    [
        ("0.5", "USDT", ("0.5", "USDT")),  # a SELL's default: the quote asset
        ("0.00001", "BTC", ("0.00001", "BTC")),  # a BUY's default: the base asset, never valued at a price
        ("0.01", "BNB", ("0.01", "BNB")),  # a third asset: kept with its amount, not 0
        ("0", None, ("0", "USDT")),  # no trade, no commission
    ],
)
def test_commissions_are_kept_in_the_asset_binance_charged(
    amount: str, asset: str | None, expected: tuple[str, str]
) -> None:
    # act
    fee, fee_asset = commission(Decimal(amount), asset, RULES)
    # assert
    assert (fee, fee_asset) == (Decimal(expected[0]), expected[1])


def test_a_query_and_its_trades_give_the_whole_order() -> None:
    # arrange
    order = BinanceOrder(
        symbol="BTCUSDT", orderId=7, orderListId=-1, clientOrderId="sig-1", price=Decimal(0), origQty=Decimal("0.3"),
        executedQty=Decimal("0.3"), cummulativeQuoteQty=Decimal("9000.5"), status="FILLED", timeInForce="GTC",
        type="MARKET", side="BUY", stopPrice=Decimal(0), icebergQty=Decimal(0), time=1, updateTime=2, isWorking=True,
        workingTime=1, origQuoteOrderQty=Decimal(0), selfTradePreventionMode="NONE",
    )  # fmt: skip
    trades = [
        BinanceMyTrade("BTCUSDT", 12, 7, -1, Decimal("30001"), Decimal("0.1"), Decimal("3000.1"), Decimal("0.0001"),
                       "BTC", 5, True, False, True),
        BinanceMyTrade("BTCUSDT", 11, 7, -1, Decimal("30000"), Decimal("0.2"), Decimal("6000"), Decimal("0.0002"),
                       "BTC", 4, True, False, True),
        BinanceMyTrade("BTCUSDT", 13, 8, -1, Decimal("1"), Decimal("1"), Decimal("1"), Decimal("0"), "BTC", 6, True,
                       False, True),
    ]  # fmt: skip
    # act
    result = from_query(order, trades, RULES)
    # assert
    assert [(f.fill_id, f.qty, f.fee, f.fee_asset) for f in result.fills] == [
        ("sig-1-11", Decimal("0.2"), Decimal("0.0002"), "BTC"),
        ("sig-1-12", Decimal("0.1"), Decimal("0.0001"), "BTC"),
    ]
    assert result.status is OrderStatus.FILLED


def test_execution_reports_parse_with_decimals_and_map_to_updates() -> None:
    # act
    new = from_execution_report(_report(EXECUTION_REPORT_NEW), RULES)
    trade = from_execution_report(_report(EXECUTION_REPORT_TRADE), RULES)
    canceled = from_execution_report(_report(EXECUTION_REPORT_CANCELED), RULES)
    # assert
    assert (new.client_order_id, new.status, new.fills) == ("mUvoqJxFIILMdfAW5iGSOW", OrderStatus.NEW, ())
    assert trade.status is OrderStatus.PARTIALLY_FILLED
    [fill] = trade.fills
    assert (fill.fill_id, fill.side, fill.price, fill.qty, fill.fee, fill.fee_asset, fill.ts) == (
        "mUvoqJxFIILMdfAW5iGSOW-12345",
        Side.BUY,
        Decimal("0.10264410"),
        Decimal("0.4"),
        Decimal("0.0004"),
        "BTC",
        1499405658657,
    )
    assert (canceled.client_order_id, canceled.status) == ("mUvoqJxFIILMdfAW5iGSOW", OrderStatus.CANCELED)


def test_the_stream_and_the_rest_answer_name_a_fill_alike() -> None:
    # arrange: the same execution (order sig-1, trade 56) by both paths
    response = msgspec.json.decode(FULL_RESPONSE.replace(b"6gCrw2kRUAF9CvJDGP16IP", b"sig-1"), type=BinanceOrderResult)
    report = _report(
        EXECUTION_REPORT_TRADE.replace(b"mUvoqJxFIILMdfAW5iGSOW", b"sig-1").replace(b'"t": 12345', b'"t": 56')
    )
    # act
    by_rest = from_order_response(response, RULES).fills[0]
    by_stream = from_execution_report(report, RULES).fills[0]
    # assert
    assert by_rest.fill_id == by_stream.fill_id == "sig-1-56"


@pytest.mark.parametrize(
    ("binance", "ours"),
    [
        ("NEW", OrderStatus.NEW),
        ("PENDING_NEW", OrderStatus.NEW),
        ("PARTIALLY_FILLED", OrderStatus.PARTIALLY_FILLED),
        ("FILLED", OrderStatus.FILLED),
        ("CANCELED", OrderStatus.CANCELED),
        ("REJECTED", OrderStatus.REJECTED),
        ("EXPIRED", OrderStatus.EXPIRED),
        ("EXPIRED_IN_MATCH", OrderStatus.EXPIRED),
    ],
)
def test_binance_statuses_map_to_ours(binance: str, ours: OrderStatus) -> None:
    assert to_status(binance) is ours


def test_an_unknown_status_is_an_error_not_a_guess() -> None:
    with pytest.raises(ValueError, match="MYSTERY"):
        to_status("MYSTERY")
