"""Paper venue: fills at the signal price, fee in the quote asset, exact to the cent and beyond."""

from __future__ import annotations

from decimal import Decimal

from algo_common.domain.models import OrderStatus, Side
from trader.venues.base import OrderRequest
from trader.venues.paper import PaperVenue


def _request(side: Side, price: str, qty: str) -> OrderRequest:
    return OrderRequest(
        client_order_id="0123456789abcdef0123456789abcdef",
        symbol="BTCUSDT",
        side=side,
        quantity=Decimal(qty),
        price=Decimal(price),
    )


async def test_market_order_fills_once_at_the_price_with_the_fee() -> None:
    # arrange
    venue = PaperVenue(fee_rate=Decimal("0.001"), fee_asset="USDT", clock=lambda: 42)
    # act
    result = await venue.submit(_request(Side.BUY, "67321.45", "0.0015"))
    # assert
    assert result.status is OrderStatus.FILLED
    assert len(result.fills) == 1
    fill = result.fills[0]
    assert (fill.price, fill.qty, fill.side, fill.ts) == (Decimal("67321.45"), Decimal("0.0015"), Side.BUY, 42)
    assert fill.fee == Decimal("0.100982175")  # 100.982175 USDT notional * 0.1%
    assert fill.fee.quantize(Decimal("0.01")) == Decimal("0.10")
    assert fill.fee_asset == "USDT"
    assert fill.fill_id == "0123456789abcdef0123456789abcdef-1"


async def test_fee_matches_the_hand_computed_cents() -> None:
    # arrange
    venue = PaperVenue(fee_rate=Decimal("0.001"), fee_asset="USDT")
    # act
    buy = await venue.submit(_request(Side.BUY, "100", "0.5"))
    sell = await venue.submit(_request(Side.SELL, "120", "1"))
    # assert
    assert buy.fills[0].fee == Decimal("0.05")
    assert sell.fills[0].fee == Decimal("0.12")


async def test_query_knows_no_order_because_paper_state_lives_in_the_ledger() -> None:
    # arrange
    venue = PaperVenue(fee_rate=Decimal("0.001"), fee_asset="USDT")
    await venue.submit(_request(Side.BUY, "100", "0.5"))
    # act
    found = await venue.query("0123456789abcdef0123456789abcdef")
    # assert
    assert found is None
    assert venue.name == "paper"
