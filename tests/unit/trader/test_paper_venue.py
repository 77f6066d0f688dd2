"""Paper execution (pure): book-top price with slippage, fee in the quote asset, partial fill -> EXPIRED."""

from __future__ import annotations

from decimal import Decimal

from algo_common.domain.models import BookTop, OrderStatus, Side
from trader.venues.base import OrderRequest
from trader.venues.paper import base_atoms
from trader.venues.paper_fills import PaperTerms, execute

NO_SLIP = PaperTerms(fee_rate=Decimal("0.001"), fee_asset="USDT", slippage_bps=Decimal(0))
TOP = BookTop(
    symbol="BTCUSDT",
    update_id=77,
    bid_price=Decimal("99.5"),
    bid_qty=Decimal("2"),
    ask_price=Decimal("100.5"),
    ask_qty=Decimal("0.3"),
    ts_event=1,
    ts_recv=2,
)


def _request(side: Side, price: str, qty: str) -> OrderRequest:
    return OrderRequest(
        client_order_id="0123456789abcdef0123456789abcdef",
        symbol="BTCUSDT",
        side=side,
        quantity=Decimal(qty),
        price=Decimal(price),
    )


def test_without_a_book_the_order_fills_at_the_signal_price_and_says_so() -> None:
    # act
    result = execute(_request(Side.BUY, "67321.45", "0.0015"), None, NO_SLIP, ts=42)
    # assert
    assert result.status is OrderStatus.FILLED
    assert len(result.fills) == 1
    fill = result.fills[0]
    assert (fill.price, fill.qty, fill.side, fill.ts) == (Decimal("67321.45"), Decimal("0.0015"), Side.BUY, 42)
    assert fill.fee == Decimal("0.100982175")  # 100.982175 USDT notional * 0.1%
    assert fill.fee_asset == "USDT"
    assert fill.fill_id == "0123456789abcdef0123456789abcdef-1"
    assert "no book top known for BTCUSDT yet" in result.detail


def test_buy_takes_the_ask_and_sell_the_bid_moved_by_slippage() -> None:
    # arrange
    terms = PaperTerms(fee_rate=Decimal("0.001"), fee_asset="USDT", slippage_bps=Decimal("10"))
    # act
    buy = execute(_request(Side.BUY, "1", "0.2"), TOP, terms, ts=1)
    sell = execute(_request(Side.SELL, "1", "1"), TOP, terms, ts=1)
    # assert
    assert (buy.status, buy.fills[0].price) == (OrderStatus.FILLED, Decimal("100.6005"))  # 100.5 * 1.001
    assert (sell.status, sell.fills[0].price) == (OrderStatus.FILLED, Decimal("99.4005"))  # 99.5 * 0.999
    assert sell.fills[0].fee == Decimal("0.0994005")
    assert "book top ask 100.5 x 0.3 (update 77)" in buy.detail


def test_order_larger_than_the_top_level_fills_the_level_and_expires() -> None:
    # act
    result = execute(_request(Side.BUY, "1", "0.5"), TOP, NO_SLIP, ts=1)
    # assert
    assert result.status is OrderStatus.EXPIRED
    assert [(f.price, f.qty) for f in result.fills] == [(Decimal("100.5"), Decimal("0.3"))]
    assert "0.3 of 0.5 filled" in result.detail


def test_quantity_in_atoms_is_exact_or_refused() -> None:
    # act / assert
    assert base_atoms(Decimal("0.00000001")) == 1
    assert base_atoms(Decimal("1.5")) == 150_000_000
    assert base_atoms(Decimal("0.000000001")) is None


def test_signal_price_source_ignores_the_book() -> None:
    # arrange
    terms = PaperTerms(fee_rate=Decimal("0.001"), fee_asset="USDT", slippage_bps=Decimal(0), use_book=False)
    # act
    result = execute(_request(Side.BUY, "110", "0.5"), TOP, terms, ts=1)
    # assert
    assert (result.status, result.fills[0].price, result.fills[0].qty) == (
        OrderStatus.FILLED,
        Decimal("110"),
        Decimal("0.5"),
    )
    assert "price source: signal" in result.detail
