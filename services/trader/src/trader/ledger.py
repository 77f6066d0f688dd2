"""The trader's durable record in MongoDB: ``orders``, ``fills``, ``positions``, ``daily_pnl``.

The intent: the order inserted as SUBMITTING before the venue is called (``_id`` =
client_order_id, so a second insert is a duplicate, never a second order). Then every update
the venue reports (:meth:`Ledger.apply_order_update`): the order's new state with an event, its
new fills, the position and the day's P&L, in ONE transaction with write concern majority.
Fills are deduplicated by id and status only moves forward, so however often an update is
retried, raced or replayed, it is recorded once.

Round trips: the ledger remembers the last position it read or committed per symbol and starts
the outcome transaction from it instead of reading it again. That copy is never used for a risk
decision, only where the write is guarded by the position's ``version`` and ``updated_at``, so a
stale copy (another replica, the Binance user stream) costs one retry with a fresh read, never a
wrong position.
The fill writes are one command where the server allows it (:mod:`trader.outcome_writes`).
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
from pymongo.errors import PyMongoError
from pymongo.read_concern import ReadConcern

from algo_common.collections import DAILY_PNL, FILLS, ORDERS, POSITIONS, indexes_for
from algo_common.domain.models import Fill, OrderStatus
from algo_common.errors import TransientError
from algo_common.mongo import Document, ensure_indexes, insert_one_or_ignore
from algo_common.retry import backoff_delay
from trader.daily_pnl import DayChange, day_changes
from trader.order_updates import plan_update
from trader.orders import rejection_update
from trader.outcome_writes import client_bulk_write_supported, fill_writes, write
from trader.position import Oversell, Position, apply_fills, cash_balance, position_id
from trader.venues.base import OrderResult

INDEXES = indexes_for(ORDERS, FILLS, POSITIONS, DAILY_PNL)
_DAY_ROW = "day_pnl"
"""Field that marks a ``daily_pnl`` row in :meth:`Ledger.account`'s union with ``positions``."""
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
        self,
        client: AsyncMongoClient[Document],
        db: AsyncDatabase[Document],
        venue: str,
        quote_asset: str,
        *,
        one_command_writes: bool | None = None,
    ) -> None:
        self._client = client
        self._db = db
        self.venue = venue
        self.quote_asset = quote_asset
        self._one_command_writes = one_command_writes
        """None: the fill writes are one ``bulkWrite`` when the server has it; False/True force a path (tests)."""
        self._seen: dict[str, Position] = {}
        """Last position read or committed per symbol: only a guarded write's starting point."""

    async def ensure_indexes(self) -> None:
        await ensure_indexes(self._db, INDEXES)

    async def get_order(self, order_id: str) -> Document | None:
        return await self._db[ORDERS].find_one({"_id": order_id})

    async def insert_order(self, order: Document) -> bool:
        """Store a new order (intent or rejection); False when that id already exists."""
        return await insert_one_or_ignore(self._db[ORDERS], order)

    async def position(self, symbol: str, session: AsyncClientSession | None = None) -> Position:
        doc = await self._db[POSITIONS].find_one({"_id": position_id(self.venue, symbol)}, session=session)
        return self._remember(_to_position(doc)) if doc else Position(venue=self.venue, symbol=symbol)

    async def positions(self) -> list[Position]:
        return [self._remember(_to_position(doc)) async for doc in self._db[POSITIONS].find({"venue": self.venue})]

    async def account(self, day: str) -> tuple[list[Position], DayChange]:
        """Every position and the UTC ``day``'s P&L in one round trip (``positions`` + ``$unionWith`` ``daily_pnl``)."""
        pipeline: list[Document] = [
            {"$match": {"venue": self.venue}},
            {
                "$unionWith": {
                    "coll": DAILY_PNL,
                    "pipeline": [
                        {"$match": {"venue": self.venue, "day": day}},
                        {"$project": {"_id": 0, _DAY_ROW: {"realized_pnl": "$realized_pnl", "fees": "$fees"}}},
                    ],
                }
            },
        ]
        positions: list[Position] = []
        total = DayChange()
        async for doc in await self._db[POSITIONS].aggregate(pipeline):
            row = doc.get(_DAY_ROW)
            if row is None:
                positions.append(self._remember(_to_position(doc)))
            else:
                total = DayChange(total.realized_pnl + row["realized_pnl"], total.fees + row["fees"])
        return positions, total

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
          new ones. A fee is in the asset the venue charged it in (``fee_asset``); the
          position counts it by the rule of :mod:`trader.position`.
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
                return await self._update_transaction(update, now_ms, known if attempt == 0 else None, attempt == 0)
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

    async def _update_transaction(
        self, update: OrderResult, now_ms: int, known: Document | None, trust_seen: bool
    ) -> AppliedUpdate:
        """One attempt; ``trust_seen``: start from the remembered position (a retry reads it in the transaction)."""
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
                seen = self._seen.get(order["symbol"]) if trust_seen else None
                current = seen or await self.position(order["symbol"], session)
                try:
                    days = day_changes(current, plan.new_fills, self.quote_asset)
                    updated = apply_fills(current, plan.new_fills, self.quote_asset, now_ms)
                except Oversell:
                    if seen is None:
                        raise
                    raise _Conflict from None  # judged on a remembered copy: decide again on a fresh read
                position = msgspec.structs.replace(updated, version=current.version + 1)
            written = await self._db[ORDERS].update_one(plan.filter, plan.order_update, session=session)
            if written.matched_count == 0:
                raise _Conflict
            if position is not None:
                writes = fill_writes(plan.new_fills, current, position, days)
                if not await write(self._client, self._db, writes, session, one_command=self._one_command()):
                    raise _Conflict
        if position is not None:  # committed
            self._remember(position)
        return AppliedUpdate(order, plan.previous_status, plan.status, plan.new_fills, position)

    def _one_command(self) -> bool:
        if self._one_command_writes is None:
            return client_bulk_write_supported(self._client)
        return self._one_command_writes

    def _remember(self, position: Position) -> Position:
        """Keep the latest copy seen (a read that overtook a commit only costs that symbol one retry)."""
        self._seen[position.symbol] = position
        return position


def _to_position(doc: dict[str, Any]) -> Position:
    fields = {key: value for key, value in doc.items() if key != "_id"}
    return msgspec.convert(fields, Position)
