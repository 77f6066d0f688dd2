"""Leases in Redis: at most one holder per key, for a bounded time unless the holder renews it.

- acquire: ``SET key token NX PX ttl`` (in a script that also draws the next fencing number);
- renew: compare-and-``PEXPIRE`` (only the holder's own token extends it);
- release: compare-and-``DEL`` (a holder never deletes a lease someone else took after it expired).

The token is ``<fencing number>:<holder>:<random>``; the fencing number grows by one with every
acquisition of the key, so a later holder always has a larger number than any earlier one. A write
that must not be made by a stale holder checks the token inside the same Lua script as the write
(:func:`algo_common.streams.publish_once` with ``fence``): the check and the write are one atomic
step on the server, so a holder whose lease expired (paused, partitioned) is refused there.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import redis.asyncio as aioredis

from algo_common.errors import AlgoTradeError
from algo_common.lua import LuaScript

_ACQUIRE = LuaScript("""
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local token = redis.call('INCR', KEYS[2]) .. ':' .. ARGV[1]
redis.call('SET', KEYS[1], token, 'PX', ARGV[2])
return token
""")

_RENEW = LuaScript("""
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
""")

_RELEASE = LuaScript("""
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
""")


@dataclass(frozen=True, slots=True)
class Fence:
    """What a fenced write checks: the lease key must still hold ``token``."""

    key: str
    token: str

    @property
    def number(self) -> int:
        """The fencing number: larger for every later holder of the key."""
        return int(self.token.partition(":")[0])


class LeaseLost(AlgoTradeError):
    """A fenced write was refused: the lease of ``name`` expired and may be held by someone else."""

    def __init__(self, name: str) -> None:
        super().__init__(f"lease of {name} lost")
        self.name = name


class RedisLease:
    """One holder's handle on the lease ``key``; :attr:`fence` is set while it believes it holds it."""

    def __init__(self, redis: aioredis.Redis, key: str, holder: str, ttl_ms: int) -> None:
        self._redis = redis
        self.key = key
        self.holder = holder
        self.ttl_ms = ttl_ms
        self.fence: Fence | None = None

    @property
    def held(self) -> bool:
        return self.fence is not None

    async def acquire(self) -> bool:
        """Take the lease if nobody holds it; True when this call took it."""
        holder = f"{self.holder}:{secrets.token_hex(8)}"
        token = await _ACQUIRE.run(self._redis, 2, self.key, f"{self.key}:fencing", holder, self.ttl_ms)
        if token is None:
            return False
        self.fence = Fence(self.key, token.decode() if isinstance(token, bytes) else str(token))
        return True

    async def renew(self) -> bool:
        """Extend the lease by its TTL; False (and no longer held) when it had expired or was taken."""
        if self.fence is None:
            return False
        renewed = await _RENEW.run(self._redis, 1, self.key, self.fence.token, self.ttl_ms)
        if not renewed:
            self.fence = None
        return bool(renewed)

    async def release(self) -> bool:
        """Give the lease up at once (others need not wait for the TTL); True when it was still ours."""
        fence, self.fence = self.fence, None
        if fence is None:
            return False
        return bool(await _RELEASE.run(self._redis, 1, self.key, fence.token))
