"""The writes new fills cause inside the outcome transaction: fills, position, daily P&L.

Inside a transaction every command is a round trip. MongoDB 8.0's client-level ``bulkWrite``
writes to several collections in one command, so where the server has it (wire version 25+)
the three collections are written with one command instead of one each (the chart's MongoDB
7.0 gets the one-command-each path; both are tested). Either way the writes are the same, run
in the caller's transaction, and the position write is guarded by its version: a stored
position that is no longer the one the update was computed from (another writer, or a stale
copy) makes :func:`write` return False and the caller retry, never overwrite.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bson.decimal128 import Decimal128
from pymongo import AsyncMongoClient, InsertOne, ReplaceOne, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ClientBulkWriteException, DuplicateKeyError, PyMongoError

from algo_common.collections import DAILY_PNL, FILLS, POSITIONS
from algo_common.domain.models import Fill
from algo_common.mongo import DUPLICATE_KEY, Document, to_document
from trader.daily_pnl import DayChange, daily_pnl_id
from trader.position import Position

CLIENT_BULK_WRITE_WIRE_VERSION = 25
"""MongoDB 8.0, the first server with the client-level ``bulkWrite`` command."""


@dataclass(frozen=True, slots=True)
class FillWrites:
    """What one batch of new fills writes (built by :func:`fill_writes`, pure)."""

    fills: list[Document]
    position: Document
    position_guard: Document | None
    """Filter the stored position must still match (id, version and the time of that version, so
    even a position deleted and rebuilt to the same version is told apart); None: insert a new one."""
    daily: list[tuple[Document, Document]]
    """(filter, update) upserts of ``daily_pnl``, one per UTC day the fills fall in."""


def fill_writes(
    fills: tuple[Fill, ...], current: Position, updated: Position, days: Mapping[str, DayChange]
) -> FillWrites:
    """The documents and updates of ``fills`` taking ``current`` to ``updated`` (the next version)."""
    daily = [
        (
            {"_id": daily_pnl_id(current.venue, current.symbol, day)},
            {
                "$inc": {"realized_pnl": change.realized_pnl, "fees": change.fees},
                "$setOnInsert": {"venue": current.venue, "symbol": current.symbol, "day": day},
            },
        )
        for day, change in days.items()
    ]
    return FillWrites(
        fills=[to_document(fill, doc_id=fill.fill_id) for fill in fills],
        position=to_document(updated, doc_id=updated.position_id),
        position_guard=None
        if current.version == 0
        else {"_id": current.position_id, "version": current.version, "updated_at": current.updated_at},
        daily=daily,
    )


def client_bulk_write_supported(client: AsyncMongoClient[Document]) -> bool:
    """Whether the primary (as last seen by the driver, no round trip) has ``bulkWrite``."""
    for server in client.topology_description.server_descriptions().values():
        if server.is_writable:
            return server.max_wire_version >= CLIENT_BULK_WRITE_WIRE_VERSION
    return False


async def write(
    client: AsyncMongoClient[Document],
    db: AsyncDatabase[Document],
    writes: FillWrites,
    session: AsyncClientSession,
    *,
    one_command: bool,
) -> bool:
    """Run ``writes`` in ``session``'s transaction; False when the position guard missed (nothing to keep)."""
    if one_command:
        return await _write_in_one_command(client, db.name, writes, session)
    return await _write_each(db, writes, session)


async def _write_each(db: AsyncDatabase[Document], writes: FillWrites, session: AsyncClientSession) -> bool:
    await db[FILLS].insert_many(writes.fills, session=session)
    positions = db[POSITIONS]
    if writes.position_guard is None:
        try:
            await positions.insert_one(writes.position, session=session)
        except DuplicateKeyError:
            return False
    elif (await positions.replace_one(writes.position_guard, writes.position, session=session)).matched_count == 0:
        return False
    for day_filter, update in writes.daily:
        await db[DAILY_PNL].update_one(day_filter, update, upsert=True, session=session)
    return True


async def _write_in_one_command(
    client: AsyncMongoClient[Document], db_name: str, writes: FillWrites, session: AsyncClientSession
) -> bool:
    """The same writes as one ``bulkWrite``. It bypasses the database's codec, so Decimals are converted here."""
    models: list[InsertOne[Document] | ReplaceOne[Document] | UpdateOne] = [
        InsertOne(_bson(fill), namespace=f"{db_name}.{FILLS}") for fill in writes.fills
    ]
    position_index = len(models)
    position = _bson(writes.position)
    if writes.position_guard is None:
        models.append(InsertOne(position, namespace=f"{db_name}.{POSITIONS}"))
    else:
        models.append(ReplaceOne(writes.position_guard, position, namespace=f"{db_name}.{POSITIONS}"))
    models.extend(
        UpdateOne(day_filter, _bson(update), upsert=True, namespace=f"{db_name}.{DAILY_PNL}")
        for day_filter, update in writes.daily
    )
    try:
        result = await client.bulk_write(models, session=session, ordered=True, verbose_results=True)
    except ClientBulkWriteException as e:
        if isinstance(e.error, PyMongoError):
            raise e.error from e  # e.g. a write conflict: its TransientTransactionError label makes the caller retry
        errors: list[Document] = e.details.get("writeErrors") or []  # documents, whatever the stub says
        if errors and all(err["code"] == DUPLICATE_KEY and err["idx"] == position_index for err in errors):
            return False  # someone inserted the position first
        raise
    return writes.position_guard is None or result.update_results[position_index].matched_count == 1


def _bson(value: Any) -> Any:
    """``value`` with every Decimal as Decimal128 (what the database's codec does for other commands)."""
    if isinstance(value, Decimal):
        return Decimal128(value)
    if isinstance(value, dict):
        return {key: _bson(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_bson(item) for item in value]
    return value
