"""The venue port: what the trader needs from any exchange, paper or real.

A venue must make ``client_order_id`` (= signal id) its idempotency key: a second submit of the
same id must never become a second order, and :meth:`Venue.query` must tell whether an order
with that id ever reached the venue, so a trader that crashed with an order in SUBMITTING can
find out instead of guessing.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

import msgspec

from algo_common.domain.models import Fill, OrderStatus, Side

MARKET = "MARKET"


class OrderRequest(msgspec.Struct, frozen=True, kw_only=True):
    """A market order as the trader sends it."""

    client_order_id: str
    symbol: str
    side: Side
    quantity: Decimal
    price: Decimal
    """Reference price: the last price the signal saw (the paper venue fills at it)."""
    type: str = MARKET


class OrderResult(msgspec.Struct, frozen=True, kw_only=True):
    """What the venue did with an order: its status and every execution so far."""

    client_order_id: str
    status: OrderStatus
    fills: tuple[Fill, ...] = ()
    reject_reason: str | None = None
    detail: str = ""
    """Human-readable note kept in the order's event history."""


class Venue(Protocol):
    """An exchange the trader can send orders to."""

    @property
    def name(self) -> str:
        """Stored on orders and in position ids (``<venue>:<SYMBOL>``)."""
        ...

    async def submit(self, order: OrderRequest) -> OrderResult:
        """Send the order; the same ``client_order_id`` twice must not trade twice."""
        ...

    async def query(self, client_order_id: str) -> OrderResult | None:
        """The venue's view of an order, or None when the venue never received it."""
        ...
