"""Redis client factory with timeouts, so an outage surfaces as an error instead of a hang."""

from __future__ import annotations

import redis.asyncio as aioredis


def create_redis(url: str, timeout_s: float = 2.0) -> aioredis.Redis:
    client: aioredis.Redis = aioredis.Redis.from_url(
        url,
        socket_timeout=timeout_s,
        socket_connect_timeout=timeout_s,
        health_check_interval=15,
        retry_on_timeout=False,
    )
    return client


async def ping(client: aioredis.Redis) -> bool:
    return bool(await client.ping())
