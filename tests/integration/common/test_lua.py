"""Lua scripts by SHA1: the first call and a server that forgot its scripts both fall back to EVAL once."""

from __future__ import annotations

import redis.asyncio as aioredis

from algo_common.lua import LuaScript

ECHO_KEY = LuaScript("return {KEYS[1], ARGV[1]}")


async def _cached(redis: aioredis.Redis, script: LuaScript) -> bool:
    exists: list[bool] = await redis.script_exists(script.sha)
    return exists[0]


async def test_a_script_runs_by_sha_after_the_first_call_and_again_after_a_flush(redis: aioredis.Redis) -> None:
    # arrange: the server knows no scripts
    await redis.script_flush()
    assert not await _cached(redis, ECHO_KEY)
    # act / assert: the first call (NOSCRIPT) falls back to EVAL, which caches the script
    assert await ECHO_KEY.run(redis, 1, "k", "v") == [b"k", b"v"]
    assert await _cached(redis, ECHO_KEY)
    assert await ECHO_KEY.run(redis, 1, "k2", "v2") == [b"k2", b"v2"]
    # act / assert: a server that lost its cache (restart, SCRIPT FLUSH) is served again
    await redis.script_flush()
    assert await ECHO_KEY.run(redis, 1, "k3", "v3") == [b"k3", b"v3"]
    assert await _cached(redis, ECHO_KEY)
