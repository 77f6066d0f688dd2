"""Fixtures of the trader integration tests (real Redis and MongoDB from tests/conftest.py)."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from tests.integration.trader.trader_harness import settings_for
from trader.settings import TraderSettings


@pytest.fixture
def trader_settings(redis: aioredis.Redis, redis_url: str, mongo_uri: str, db_name: str) -> TraderSettings:
    """Settings of an in-process trader on the flushed Redis and this test's fresh database."""
    return settings_for(redis_url, mongo_uri, db_name)
