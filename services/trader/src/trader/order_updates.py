"""How an exchange order update changes a stored order. Pure: the ledger does the I/O.

An update is what a venue reports about one order (:class:`~trader.venues.base.OrderResult`):
its status and the executions known so far. Applying it follows two rules that make every
replay, redelivery or out-of-order report harmless:

- fills are facts: a fill whose id the order does not hold yet is added, one already held is
  skipped (fill ids derive from the venue's trade id, so the same execution has the same id);
- status only moves forward (SUBMITTING < NEW < PARTIALLY_FILLED < final), and a final status
  never changes; a stale status is ignored, its new fills are still taken.

Every change appends one entry to the order's ``events`` history; an update that changes
nothing appends nothing, so the history holds each change exactly once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from algo_common.domain.models import Fill, OrderStatus
from trader.orders import FINAL_STATUSES, Document, event
from trader.venues.base import OrderResult

ZERO = Decimal(0)
_RANK = {OrderStatus.SUBMITTING: 0, OrderStatus.NEW: 1, OrderStatus.PARTIALLY_FILLED: 2}
FINAL_RANK = 3


def rank(status: OrderStatus) -> int:
    """Position of a status in the lifecycle; every final status ranks last."""
    return FINAL_RANK if status in FINAL_STATUSES else _RANK[status]


@dataclass(frozen=True, slots=True)
class UpdatePlan:
    """The writes one update needs: the order ``$set``/``$push`` and the fills to insert."""

    previous_status: OrderStatus
    status: OrderStatus
    new_fills: tuple[Fill, ...]
    order_update: Document
    filter: Document
    """Matches the order only as it was read (its ``rev``): a concurrent change makes the write miss."""


def next_status(current: OrderStatus, reported: OrderStatus) -> OrderStatus:
    """The status after a report: forward moves only, a final status is kept."""
    if current in FINAL_STATUSES:
        return current
    return reported if rank(reported) > rank(current) else current


def plan_update(order: Document, update: OrderResult, now_ms: int) -> UpdatePlan | None:
    """The writes that bring ``order`` up to date with ``update``; None when it already is."""
    held = set(order.get("fill_ids", ()))
    new_fills = _unique_new(update.fills, held)
    current = OrderStatus(order["status"])
    status = next_status(current, update.status)
    if status is current and not new_fills:
        return None
    fields: Document = {"status": str(status), "updated_at": now_ms}
    if status is not current and update.reject_reason is not None:
        fields["reject_reason"] = update.reject_reason
    if new_fills:
        fields.update(_totals(order, new_fills))
    detail = update.detail
    if status is current and update.status is not current:
        detail = f"{detail}; reported {update.status} ignored: order is {current}".lstrip("; ")
    entry = event(status, now_ms, detail)
    if new_fills:
        entry["fills"] = [fill.fill_id for fill in new_fills]
    rev = order.get("rev")
    return UpdatePlan(
        previous_status=current,
        status=status,
        new_fills=new_fills,
        order_update={
            "$set": fields,
            "$push": {"events": entry, "fill_ids": {"$each": [fill.fill_id for fill in new_fills]}},
            "$inc": {"rev": 1},
        },
        filter={"_id": order["_id"], "rev": rev if rev is not None else {"$exists": False}},
    )


def _unique_new(fills: Sequence[Fill], held: set[str]) -> tuple[Fill, ...]:
    """Fills not held yet, each id once, in the venue's order."""
    seen = set(held)
    new: list[Fill] = []
    for fill in fills:
        if fill.fill_id not in seen:
            seen.add(fill.fill_id)
            new.append(fill)
    return tuple(new)


def _totals(order: Document, new_fills: Sequence[Fill]) -> Document:
    """Executed quantity, quote amount, average price and fees after adding ``new_fills``.

    ``fee`` sums the commissions in the order's ``fee_asset`` (the quote asset); ``commissions``
    holds every commission by asset (a Binance BUY pays in the base asset, or in BNB), so none
    is dropped or valued at a guessed price.
    """
    filled_qty = order["filled_qty"] + sum((f.qty for f in new_fills), ZERO)
    cum_quote = order["cum_quote"] + sum((f.price * f.qty for f in new_fills), ZERO)
    commissions: dict[str, Decimal] = dict(order.get("commissions") or {})
    for fill in new_fills:
        if fill.fee:
            commissions[fill.fee_asset] = commissions.get(fill.fee_asset, ZERO) + fill.fee
    fee_asset = order.get("fee_asset")
    return {
        "filled_qty": filled_qty,
        "cum_quote": cum_quote,
        "avg_price": cum_quote / filled_qty if filled_qty else None,
        "fee": order["fee"] + sum((f.fee for f in new_fills if f.fee_asset == fee_asset), ZERO),
        "commissions": commissions,
    }
