"""The trader's durable record in MongoDB: ``orders``, ``fills``, ``positions``.

Two writes per order. The intent: the order inserted as SUBMITTING before the venue is called
(``_id`` = client_order_id, so a second insert is a duplicate, never a second order). The
outcome: the order's final state, its fills and the position, in ONE transaction with write
concern majority, applied only while the order is still SUBMITTING, so however often an
outcome is retried or raced, it is recorded once.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import msgspec
from pymongo import AsyncMongoClient, WriteConcern
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError, PyMongoError
from pymongo.read_concern import ReadConcern

from algo_common.collections import FILLS, ORDERS, POSITIONS, indexes_for
from algo_common.domain.models import OrderStatus
from algo_common.errors import TransientError
from algo_common.mongo import Document, ensure_indexes, insert_one_or_ignore, to_document
from algo_common.retry import backoff_delay
from trader.orders import outcome_update, rejection_update
from trader.position import Position, apply_fills, cash_balance, position_id
from trader.venues.base import OrderResult

INDEXES = indexes_for(ORDERS, FILLS, POSITIONS)
TRANSACTION_ATTEMPTS = 5
TRANSIENT_TRANSACTION_ERROR = "TransientTransactionError"


class _PositionMoved(Exception):
    """Another transaction changed the position since it was read; retry with a fresh read."""


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

    async def record_outcome(self, order: Document, result: OrderResult, now_ms: int, detail: str) -> Position | None:
        """Commit the outcome; the new position, or None when the order was no longer SUBMITTING.

        Raises :class:`trader.position.Oversell` (nothing written) when a sell exceeds the
        position; write conflicts are retried here, other MongoDB errors are raised.
        """
        for attempt in range(TRANSACTION_ATTEMPTS):
            try:
                return await self._outcome_transaction(order, result, now_ms, detail)
            except _PositionMoved:
                pass
            except PyMongoError as e:
                if not e.has_error_label(TRANSIENT_TRANSACTION_ERROR) or attempt == TRANSACTION_ATTEMPTS - 1:
                    raise
            await asyncio.sleep(backoff_delay(attempt, 0.01, 0.5))
        raise TransientError(f"order {order['_id']}: position kept changing; outcome not recorded yet")

    async def reject_submitting(self, order_id: str, reason: str, now_ms: int) -> bool:
        """Mark a SUBMITTING order REJECTED; False when it already had an outcome."""
        result = await self._db[ORDERS].update_one(
            {"_id": order_id, "status": str(OrderStatus.SUBMITTING)}, rejection_update(reason, now_ms)
        )
        return result.modified_count == 1

    async def _outcome_transaction(
        self, order: Document, result: OrderResult, now_ms: int, detail: str
    ) -> Position | None:
        async with (
            self._client.start_session() as session,
            await session.start_transaction(
                read_concern=ReadConcern("snapshot"), write_concern=WriteConcern(w="majority")
            ),
        ):
            current = await self.position(order["symbol"], session)
            updated = apply_fills(current, result.fills, self.quote_asset, now_ms)
            applied = await self._db[ORDERS].update_one(
                {"_id": order["_id"], "status": str(OrderStatus.SUBMITTING)},
                outcome_update(result, now_ms, detail),
                session=session,
            )
            if applied.matched_count == 0:
                return None
            if result.fills:
                fills = [to_document(fill, doc_id=fill.fill_id) for fill in result.fills]
                await self._db[FILLS].insert_many(fills, session=session)
                updated = await self._save_position(current, updated, session)
        return updated

    async def _save_position(self, current: Position, updated: Position, session: AsyncClientSession) -> Position:
        """Write ``updated`` only if the stored position is still ``current`` (its version)."""
        updated = msgspec.structs.replace(updated, version=current.version + 1)
        doc = to_document(updated, doc_id=updated.position_id)
        positions = self._db[POSITIONS]
        if current.version == 0:
            try:
                await positions.insert_one(doc, session=session)
            except DuplicateKeyError as e:
                raise _PositionMoved from e
        else:
            replaced = await positions.replace_one(
                {"_id": updated.position_id, "version": current.version}, doc, session=session
            )
            if replaced.matched_count == 0:
                raise _PositionMoved
        return updated


def _to_position(doc: dict[str, Any]) -> Position:
    fields = {key: value for key, value in doc.items() if key != "_id"}
    return msgspec.convert(fields, Position)
