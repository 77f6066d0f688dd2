"""How the paper venue executes a MARKET order. Pure: book top in, fills out, Decimal throughout.

- Price: the best ask (BUY) or best bid (SELL) of the latest book top, moved ``slippage_bps``
  basis points against the order; the fee is ``price * qty * fee_rate`` in the quote asset.
- Size: the book top carries one level only, so at most its quantity fills. A larger order
  fills that much and ends EXPIRED with the rest unfilled, as a Binance MARKET order short of
  liquidity does (``executedQty`` < ``origQty``). Nothing beyond the top is invented.
- No book top known for the symbol yet: the order fills in full at the signal's price (plus
  slippage), and its event detail says so. ``TRADER_PAPER_PRICE_SOURCE=signal`` always does that
  (deterministic demos and end-to-end tests; never a model of a real market).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from algo_common.domain.ids import fill_id
from algo_common.domain.models import BookTop, Fill, OrderStatus, Side
from trader.venues.base import OrderRequest, OrderResult

BPS = Decimal(10_000)
ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class PaperTerms:
    fee_rate: Decimal
    fee_asset: str
    slippage_bps: Decimal
    use_book: bool = True
    """False: always fill at the signal's price (``TRADER_PAPER_PRICE_SOURCE=signal``)."""


def paper_fee(price: Decimal, qty: Decimal, fee_rate: Decimal) -> Decimal:
    """Fee in the quote asset: price * qty * rate, exact (no rounding)."""
    return price * qty * fee_rate


def execute(order: OrderRequest, top: BookTop | None, terms: PaperTerms, ts: int) -> OrderResult:
    """The venue's answer to ``order`` against ``top`` (None: no book known)."""
    buy = order.side is Side.BUY
    if top is None or not terms.use_book:
        reference, available = order.price, order.quantity
        why = "price source: signal" if not terms.use_book else f"no book top known for {order.symbol} yet"
        source = f"{why}: filled at the signal price {order.price}"
    else:
        reference, available = (top.ask_price, top.ask_qty) if buy else (top.bid_price, top.bid_qty)
        source = f"book top {'ask' if buy else 'bid'} {reference} x {available} (update {top.update_id})"
    slip = terms.slippage_bps / BPS
    price = reference * (1 + slip) if buy else reference * (1 - slip)
    qty = min(order.quantity, available)
    detail = f"paper: {source}; slippage {terms.slippage_bps} bps"
    if qty <= ZERO:
        return OrderResult(client_order_id=order.client_order_id, status=OrderStatus.EXPIRED, detail=detail)
    fill = Fill(
        fill_id=fill_id(order.client_order_id, 1),
        client_order_id=order.client_order_id,
        symbol=order.symbol,
        side=order.side,
        price=price,
        qty=qty,
        fee=paper_fee(price, qty, terms.fee_rate),
        fee_asset=terms.fee_asset,
        ts=ts,
    )
    if qty < order.quantity:
        status = OrderStatus.EXPIRED
        detail += f"; {qty} of {order.quantity} filled, the rest expired: beyond the top level"
    else:
        status = OrderStatus.FILLED
    return OrderResult(client_order_id=order.client_order_id, status=status, fills=(fill,), detail=detail)
