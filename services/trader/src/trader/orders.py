"""The ``orders`` documents: built here (pure), stored by the ledger.

An order's ``_id`` is its ``client_order_id``, which is the signal id: one signal can only ever
be one order. ``events`` is the append-only history of its changes (one entry per status change
or batch of new fills, see :mod:`trader.order_updates`); ``fill_ids`` the executions it holds;
``rev`` counts its writes, so a write based on a stale read misses instead of overwriting.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from algo_common.domain.ids import client_order_id
from algo_common.domain.models import OrderStatus, Signal
from trader.venues.base import MARKET, OrderRequest

Document = dict[str, Any]
ZERO = Decimal(0)
FINAL_STATUSES = frozenset({OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED, OrderStatus.EXPIRED})


def is_final(order: Document) -> bool:
    """True when the order can never change again (a redelivered signal is then only acked)."""
    return OrderStatus(order["status"]) in FINAL_STATUSES


def event(status: OrderStatus, ts: int, detail: str = "") -> Document:
    return {"status": str(status), "ts": ts, "detail": detail}


def intent_document(signal: Signal, quantity: Decimal, venue: str, fee_asset: str, now_ms: int) -> Document:
    """The order as recorded before the venue is called (status SUBMITTING)."""
    detail = "risk accepted" if quantity == signal.quantity else f"risk accepted; quantity cut to {quantity}"
    return _document(signal, quantity, venue, fee_asset, now_ms, OrderStatus.SUBMITTING, detail, None)


def rejected_document(signal: Signal, reason: str, venue: str, fee_asset: str, now_ms: int) -> Document:
    """A signal refused by risk checks, stored so that no refusal is silent."""
    return _document(signal, signal.quantity, venue, fee_asset, now_ms, OrderStatus.REJECTED, reason, reason)


def _document(
    signal: Signal,
    quantity: Decimal,
    venue: str,
    fee_asset: str,
    now_ms: int,
    status: OrderStatus,
    detail: str,
    reject_reason: str | None,
) -> Document:
    order_id = client_order_id(signal.signal_id)
    return {
        "_id": order_id,
        "client_order_id": order_id,
        "signal_id": signal.signal_id,
        "symbol": signal.symbol,
        "side": str(signal.side),
        "type": MARKET,
        "quantity": quantity,
        "status": str(status),
        "venue": venue,
        "avg_price": None,
        "filled_qty": ZERO,
        "cum_quote": ZERO,
        "fee": ZERO,
        "fee_asset": fee_asset,
        "reject_reason": reject_reason,
        "created_at": now_ms,
        "updated_at": now_ms,
        "events": [event(status, now_ms, detail)],
        "fill_ids": [],
        "rev": 0,
    }


def rejection_update(reason: str, now_ms: int) -> Document:
    """Turn a SUBMITTING order that can no longer execute into REJECTED."""
    return {
        "$set": {"status": str(OrderStatus.REJECTED), "reject_reason": reason, "updated_at": now_ms},
        "$push": {"events": event(OrderStatus.REJECTED, now_ms, reason)},
        "$inc": {"rev": 1},
    }


def order_request(signal: Signal, order: Document) -> OrderRequest:
    """The venue request of a stored order: its quantity, the signal's side and price."""
    return OrderRequest(
        client_order_id=order["client_order_id"],
        symbol=signal.symbol,
        side=signal.side,
        quantity=order["quantity"],
        price=signal.price,
    )
