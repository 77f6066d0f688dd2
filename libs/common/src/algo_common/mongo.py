"""MongoDB access with PyMongo's native async client (``AsyncMongoClient``; Motor reached end of life).

``Decimal`` values are stored as ``Decimal128`` and read back as ``Decimal`` through a codec,
so money never passes through a binary float. Writes use write concern ``majority``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import msgspec
from bson.codec_options import CodecOptions, TypeCodec, TypeRegistry
from bson.decimal128 import Decimal128
from pymongo import AsyncMongoClient, IndexModel, WriteConcern
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

Document = dict[str, Any]
DUPLICATE_KEY = 11000


class DecimalCodec(TypeCodec):
    python_type = Decimal
    bson_type = Decimal128

    def transform_python(self, value: Decimal) -> Decimal128:
        return Decimal128(value)

    def transform_bson(self, value: Decimal128) -> Decimal:
        return value.to_decimal()


CODEC_OPTIONS: CodecOptions[Document] = CodecOptions(type_registry=TypeRegistry([DecimalCodec()]), tz_aware=True)


def create_client(uri: str, app_name: str, server_selection_timeout_ms: int = 3000) -> AsyncMongoClient[Document]:
    return AsyncMongoClient(
        uri,
        appname=app_name,
        serverSelectionTimeoutMS=server_selection_timeout_ms,
        connectTimeoutMS=server_selection_timeout_ms,
        w="majority",
    )


def get_database(client: AsyncMongoClient[Document], name: str) -> AsyncDatabase[Document]:
    return client.get_database(name, codec_options=CODEC_OPTIONS, write_concern=WriteConcern(w="majority"))


async def ensure_indexes(db: AsyncDatabase[Document], indexes: Mapping[str, Sequence[IndexModel]]) -> None:
    """Create each collection's indexes; creating an existing identical index is a no-op."""
    for collection, models in indexes.items():
        if models:
            await db[collection].create_indexes(list(models))


async def insert_or_ignore(collection: AsyncCollection[Document], documents: Iterable[Document]) -> int:
    """Insert documents whose ``_id`` is new; duplicates (a replay) are skipped. Returns how many were new."""
    docs = list(documents)
    if not docs:
        return 0
    try:
        result = await collection.insert_many(docs, ordered=False)
    except BulkWriteError as e:
        errors = e.details.get("writeErrors", [])
        if any(err.get("code") != DUPLICATE_KEY for err in errors):
            raise
        inserted: int = e.details.get("nInserted", len(docs) - len(errors))
        return inserted
    return len(result.inserted_ids)


async def insert_one_or_ignore(collection: AsyncCollection[Document], document: Document) -> bool:
    """Insert one document; False when its ``_id`` (or another unique key) already exists."""
    try:
        await collection.insert_one(document)
    except DuplicateKeyError:
        return False
    return True


def to_document(value: msgspec.Struct, doc_id: str | None = None) -> Document:
    """A Struct as a MongoDB document, Decimals kept (stored as Decimal128 by the codec)."""
    doc: Document = msgspec.to_builtins(value, builtin_types=(Decimal,))
    if doc_id is not None:
        doc["_id"] = doc_id
    return doc


async def ping(client: AsyncMongoClient[Document]) -> bool:
    reply = await client.admin.command("ping")
    return bool(reply.get("ok"))
