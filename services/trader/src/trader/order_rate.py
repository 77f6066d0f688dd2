"""Max orders per minute across every trader replica: a sliding window in one Redis sorted set.

A slot is reserved atomically (Lua) just before an order's intent is stored: members are client
order ids scored by time, so a retried signal finds its own slot instead of taking a second one,
and two replicas can never together exceed the limit.
"""

from __future__ import annotations

import redis.asyncio as aioredis

from algo_common.lua import LuaScript

SLOTS_KEY = "trader:order_slots"
WINDOW_MS = 60_000

_RESERVE = LuaScript("""
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[3]))
if redis.call('ZSCORE', KEYS[1], ARGV[4]) then return 1 end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
""")


class OrderRate:
    """``reserve`` answers whether one more order fits the last minute's budget."""

    def __init__(self, redis: aioredis.Redis, max_per_minute: int, key: str = SLOTS_KEY) -> None:
        self._redis = redis
        self._max = max_per_minute
        self._key = key

    async def reserve(self, client_order_id: str, now_ms: int) -> bool:
        """True when the order may go (a slot is now held for it); always True when the limit is 0 (off)."""
        if self._max <= 0:
            return True
        reply = await _RESERVE.run(self._redis, 1, self._key, now_ms, self._max, WINDOW_MS, client_order_id)
        return bool(reply)
