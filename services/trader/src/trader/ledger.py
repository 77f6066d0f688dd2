"""The trader's durable record in MongoDB: ``orders``, ``fills``, ``positions``, ``daily_pnl``.

The intent: the order inserted as SUBMITTING before the venue is called (``_id`` =
client_order_id, so a second insert is a duplicate, never a second order). Then every update
the venue reports (:meth:`Ledger.apply_order_update`): the order's new state with an event, its
new fills, the position and the day's P&L, in ONE transaction with write concern majority.
Fills are deduplicated by id and status only moves forward, so however often an update is
retried, raced or replayed, it is recorded once.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import msgspec
from pymongo import AsyncMongoClient, WriteConcern
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError, PyMongoError
from pymongo.read_concern import ReadConcern

from algo_common.collections import DAILY_PNL, FILLS, ORDERS, POSITIONS, indexes_for
from algo_common.domain.models import Fill, OrderStatus
from algo_common.errors import TransientError
from algo_common.mongo import Document, ensure_indexes, insert_one_or_ignore, to_document
from algo_common.retry import backoff_delay
from trader.daily_pnl import DayChange, daily_pnl_id, day_changes
from trader.order_updates import plan_update
from trader.orders import rejection_update
from trader.position import Position, apply_fills, cash_balance, position_id
from trader.venues.base import OrderResult

INDEXES = indexes_for(ORDERS, FILLS, POSITIONS, DAILY_PNL)
TRANSACTION_ATTEMPTS = 10
TRANSIENT_TRANSACTION_ERROR = "TransientTransactionError"


class _Conflict(Exception):
    """Another transaction changed the order or the position since it was read; retry with a fresh read."""


class UnknownOrder(KeyError):
    """An update for a client order id the ledger has no order for (not placed by this trader)."""


@dataclass(frozen=True, slots=True)
class AppliedUpdate:
    """What :meth:`Ledger.apply_order_update` changed."""

    order: Document
    """The order as read before the update."""
    previous_status: OrderStatus
    status: OrderStatus
    new_fills: tuple[Fill, ...]
    position: Position | None
    """The position after the new fills; None when there were none."""

    @property
    def changed(self) -> bool:
        return self.status is not self.previous_status or bool(self.new_fills)


class Ledger:
    """Orders, fills and positions of one venue."""

    def __init__(
        self, client: AsyncMongoClient[Document], db: AsyncDatabase[Document], venue: str, quote_asset: str
    ) -> None:
        self._client = client
        self._db = db
        self.venue = venue
        self.quote_asset = quote_asset

    async def ensure_indexes(self) -> None:
        await ensure_indexes(self._db, INDEXES)

    async def get_order(self, order_id: str) -> Document | None:
        return await self._db[ORDERS].find_one({"_id": order_id})

    async def insert_order(self, order: Document) -> bool:
        """Store a new order (intent or rejection); False when that id already exists."""
        return await insert_one_or_ignore(self._db[ORDERS], order)

    async def position(self, symbol: str, session: AsyncClientSession | None = None) -> Position:
        doc = await self._db[POSITIONS].find_one({"_id": position_id(self.venue, symbol)}, session=session)
        return _to_position(doc) if doc else Position(venue=self.venue, symbol=symbol)

    async def positions(self) -> list[Position]:
        return [_to_position(doc) async for doc in self._db[POSITIONS].find({"venue": self.venue})]

    async def quote_balance(self, starting_balance: Decimal) -> Decimal:
        """Cash of the account, derived from its positions (the paper venue keeps no balance)."""
        return cash_balance(starting_balance, await self.positions())

    async def daily_pnl(self, day: str) -> DayChange:
        """Realized P&L and fees of the UTC ``day`` (``YYYY-MM-DD``); zero when nothing traded."""
        total = DayChange()
        async for doc in self._db[DAILY_PNL].find({"venue": self.venue, "day": day}):
            total = DayChange(total.realized_pnl + doc["realized_pnl"], total.fees + doc["fees"])
        return total

    async def apply_order_update(
        self, update: OrderResult, now_ms: int, *, known: Document | None = None
    ) -> AppliedUpdate:
        """Apply what the venue reports about one order, idempotently; safe to call any number of times.

        Contract (callers: the executor with a venue's reply; the Binance user data stream and
        reconciliation with ``executionReport`` / query results):

        - ``update.client_order_id`` names an order already in ``orders`` (the executor stores
          the intent before any venue call); otherwise :class:`UnknownOrder`, nothing written.
        - ``update.fills`` are executions, each with a ``fill_id`` derived from the venue's
          trade id (``algo_common.domain.ids.fill_id(client_order_id, trade_id)``); they may
          repeat fills already recorded (skipped by id) and may be all fills so far or only the
          new ones. Fees must be in the quote asset.
        - ``update.status`` moves the order forward only (SUBMITTING < NEW < PARTIALLY_FILLED <
          FILLED | CANCELED | REJECTED | EXPIRED); a final status never changes; a stale status
          is ignored while its new fills are still recorded.
        - The order's new state, one ``events`` entry, the new fills, the position and the daily
          P&L are written in ONE transaction (write concern majority), or nothing is.
        - Returns what changed (``changed`` False: the update was already applied). Raises
          :class:`trader.position.Oversell` (nothing written) when a new SELL fill exceeds the
          position; write conflicts are retried here, other MongoDB errors are raised.
        - ``known``: the order as the caller last read it, to save the first attempt a read; the
          write is guarded by its ``rev``, so a stale copy only costs a retry with a fresh read.
        """
        for attempt in range(TRANSACTION_ATTEMPTS):
            try:
                return await self._update_transaction(update, now_ms, known if attempt == 0 else None)
            except _Conflict:
                pass
            except PyMongoError as e:
                if not e.has_error_label(TRANSIENT_TRANSACTION_ERROR) or attempt == TRANSACTION_ATTEMPTS - 1:
                    raise
            await asyncio.sleep(backoff_delay(attempt, 0.01, 0.5))
        raise TransientError(f"order {update.client_order_id}: kept changing; update not recorded yet")

    async def reject_submitting(self, order_id: str, reason: str, now_ms: int) -> bool:
        """Mark a SUBMITTING order REJECTED; False when it already had an outcome."""
        result = await self._db[ORDERS].update_one(
            {"_id": order_id, "status": str(OrderStatus.SUBMITTING)}, rejection_update(reason, now_ms)
        )
        return result.modified_count == 1

    async def _update_transaction(self, update: OrderResult, now_ms: int, known: Document | None) -> AppliedUpdate:
        async with (
            self._client.start_session() as session,
            await session.start_transaction(
                read_concern=ReadConcern("snapshot"), write_concern=WriteConcern(w="majority")
            ),
        ):
            order = known or await self._db[ORDERS].find_one({"_id": update.client_order_id}, session=session)
            if order is None:
                raise UnknownOrder(update.client_order_id)
            plan = plan_update(order, update, now_ms)
            if plan is None:
                status = OrderStatus(order["status"])
                return AppliedUpdate(order, status, status, (), None)
            position: Position | None = None
            if plan.new_fills:
                current = await self.position(order["symbol"], session)
                days = day_changes(current, plan.new_fills, self.quote_asset)
                updated = apply_fills(current, plan.new_fills, self.quote_asset, now_ms)
            written = await self._db[ORDERS].update_one(plan.filter, plan.order_update, session=session)
            if written.matched_count == 0:
                raise _Conflict
            if plan.new_fills:
                fills = [to_document(fill, doc_id=fill.fill_id) for fill in plan.new_fills]
                await self._db[FILLS].insert_many(fills, session=session)
                position = await self._save_position(current, updated, session)
                await self._add_daily_pnl(order["symbol"], days, session)
        return AppliedUpdate(order, plan.previous_status, plan.status, plan.new_fills, position)

    async def _add_daily_pnl(self, symbol: str, days: dict[str, DayChange], session: AsyncClientSession) -> None:
        for day, change in days.items():
            await self._db[DAILY_PNL].update_one(
                {"_id": daily_pnl_id(self.venue, symbol, day)},
                {
                    "$inc": {"realized_pnl": change.realized_pnl, "fees": change.fees},
                    "$setOnInsert": {"venue": self.venue, "symbol": symbol, "day": day},
                },
                upsert=True,
                session=session,
            )

    async def _save_position(self, current: Position, updated: Position, session: AsyncClientSession) -> Position:
        """Write ``updated`` only if the stored position is still ``current`` (its version)."""
        updated = msgspec.structs.replace(updated, version=current.version + 1)
        doc = to_document(updated, doc_id=updated.position_id)
        positions = self._db[POSITIONS]
        if current.version == 0:
            try:
                await positions.insert_one(doc, session=session)
            except DuplicateKeyError as e:
                raise _Conflict from e
        else:
            replaced = await positions.replace_one(
                {"_id": updated.position_id, "version": current.version}, doc, session=session
            )
            if replaced.matched_count == 0:
                raise _Conflict
        return updated


def _to_position(doc: dict[str, Any]) -> Position:
    fields = {key: value for key, value in doc.items() if key != "_id"}
    return msgspec.convert(fields, Position)
