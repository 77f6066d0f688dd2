"""Paper exchange: every market order fills at once, in full, at the signal's price.

The paper venue keeps no state of its own: an execution exists only in the trader's outcome
transaction (order FILLED + fill + position, committed together). So an order still SUBMITTING
in MongoDB was never executed, :meth:`PaperVenue.query` answers "never received", and re-running
:meth:`PaperVenue.submit` is the deterministic, single execution of that order.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from algo_common.clock import now_ms
from algo_common.domain.ids import fill_id
from algo_common.domain.models import Fill, OrderStatus
from trader.venues.base import OrderRequest, OrderResult


def paper_fee(price: Decimal, qty: Decimal, fee_rate: Decimal) -> Decimal:
    """Fee in the quote asset: price * qty * rate, exact (no rounding)."""
    return price * qty * fee_rate


class PaperVenue:
    """Simulated spot venue with a flat fee rate charged in the quote asset."""

    def __init__(self, fee_rate: Decimal, fee_asset: str, clock: Callable[[], int] = now_ms) -> None:
        self._fee_rate = fee_rate
        self._fee_asset = fee_asset
        self._clock = clock

    @property
    def name(self) -> str:
        return "paper"

    async def submit(self, order: OrderRequest) -> OrderResult:
        fill = Fill(
            fill_id=fill_id(order.client_order_id, 1),
            client_order_id=order.client_order_id,
            symbol=order.symbol,
            side=order.side,
            price=order.price,
            qty=order.quantity,
            fee=paper_fee(order.price, order.quantity, self._fee_rate),
            fee_asset=self._fee_asset,
            ts=self._clock(),
        )
        return OrderResult(
            client_order_id=order.client_order_id,
            status=OrderStatus.FILLED,
            fills=(fill,),
            detail="paper fill at the signal price",
        )

    async def query(self, client_order_id: str) -> OrderResult | None:
        """Always None: a paper order that is not recorded as executed was never executed."""
        return None
