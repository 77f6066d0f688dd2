"""Fixtures of the processor integration tests (real Redis and MongoDB from tests/conftest.py)."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis
from pymongo.asynchronous.database import AsyncDatabase

from algo_common.mongo import Document
from tests.integration.processor.processor_harness import Collector, Observer, RunProcessor, processor_runner


@pytest.fixture
def run_processor(redis: aioredis.Redis, redis_url: str, mongo_uri: str, db_name: str) -> RunProcessor:
    """Runs in-process processors on the flushed Redis and this test's fresh database."""
    return processor_runner(redis_url, mongo_uri, db_name)


@pytest.fixture
def collector(redis: aioredis.Redis, mongo_db: AsyncDatabase[Document]) -> Collector:
    return Collector(redis, mongo_db)


@pytest.fixture
def observer(redis: aioredis.Redis, mongo_db: AsyncDatabase[Document]) -> Observer:
    return Observer(redis, mongo_db)
