"""Fixtures of the trader integration tests (real Redis and MongoDB from tests/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import redis.asyncio as aioredis

from exchange_sim import RunningSimulator
from tests.integration.trader.binance_harness import binance_sim
from tests.integration.trader.trader_harness import settings_for
from trader.settings import TraderSettings


@pytest.fixture
def trader_settings(redis: aioredis.Redis, redis_url: str, mongo_uri: str, db_name: str) -> TraderSettings:
    """Settings of an in-process trader on the flushed Redis and this test's fresh database."""
    return settings_for(redis_url, mongo_uri, db_name)


@pytest.fixture
async def sim() -> AsyncIterator[RunningSimulator]:
    """The exchange simulator with the documentation key's account, stepped by the test."""
    async with binance_sim() as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(trust_env=False, timeout=10.0) as client:
        yield client
