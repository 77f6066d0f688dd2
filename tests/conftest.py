"""Real servers for the whole suite: one private redis-server and one MongoDB-compatible replica set.

``REDIS_URL`` / ``MONGO_URI`` replace them, so the same suite runs against a real Redis and a real
MongoDB replica set. Each test gets its own Redis DB flush and its own MongoDB database name.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from pymongo import AsyncMongoClient

from algo_common.mongo import Document, create_client, get_database
from algo_common.redis_client import create_redis
from algo_trade.servers import LocalServer, mongo_server, redis_server

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def redis_server_proc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer | None]:
    if os.environ.get("REDIS_URL"):
        yield None
        return
    server = redis_server(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def mongo_server_proc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer | None]:
    if os.environ.get("MONGO_URI"):
        yield None
        return
    server = mongo_server(tmp_path_factory.mktemp("mongo") / "data")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_url(redis_server_proc: LocalServer | None) -> str:
    return os.environ.get("REDIS_URL") or (redis_server_proc.url if redis_server_proc else "")


@pytest.fixture(scope="session")
def mongo_uri(mongo_server_proc: LocalServer | None) -> str:
    return os.environ.get("MONGO_URI") or (mongo_server_proc.url if mongo_server_proc else "")


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = create_redis(redis_url)
    await client.flushdb()
    yield client
    await client.aclose()


@pytest.fixture
async def mongo_client(mongo_uri: str) -> AsyncIterator[AsyncMongoClient[Document]]:
    client = create_client(mongo_uri, "tests")
    yield client
    await client.close()


@pytest.fixture
def db_name() -> str:
    """A fresh database per test, so tests never see each other's documents."""
    return f"test_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def mongo_db(mongo_client: AsyncMongoClient[Document], db_name: str):  # type: ignore[no-untyped-def]
    return get_database(mongo_client, db_name)
