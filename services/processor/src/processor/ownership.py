"""Which configured symbols this replica owns: one Redis lease per symbol, shared out evenly.

Every replica of a deployment (same strategy, interval and symbol list) registers in a sorted set
of live replicas, scored by expiry on Redis's own clock, and on each :meth:`SymbolOwnership.refresh`
(every ``lease_renew_ms``) renews its leases and aims at its fair share, ``ceil(symbols / live
replicas)``: above it, it names its surplus, which the service releases between two batches (the
joining replica takes those symbols on its next refresh); below it, it takes free symbols,
starting at an offset derived from its name so replicas rarely race for the same one. A dead
replica's leases and registration expire after ``lease_ttl_ms``, so the others take its symbols
over within about ``lease_ttl_ms + lease_renew_ms``. Shares only cap how many symbols a replica
takes; every free symbol is taken by someone, because the shares of the live replicas add up to
at least the number of symbols.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import redis.asyncio as aioredis

from algo_common.lease import Fence, RedisLease
from algo_common.logging import get_logger
from algo_common.lua import LuaScript
from processor.metrics import ProcessorMetrics

log = get_logger(__name__)

LEASE_PREFIX = "lease:processor:"
REPLICAS_PREFIX = "processor:replicas:"

# Register (or refresh) a replica, drop expired ones, count the rest: on Redis's clock, so replicas'
# clocks never need to agree.
_HEARTBEAT = LuaScript("""
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], 2 * tonumber(ARGV[2]))
return redis.call('ZCARD', KEYS[1])
""")


def fair_share(symbols: int, replicas: int) -> int:
    """How many symbols one of ``replicas`` live replicas should own: ``ceil(symbols / replicas)``."""
    return -(-symbols // max(replicas, 1))


def acquisition_order(symbols: Sequence[str], replica: str) -> list[str]:
    """The symbols, sorted, rotated by an offset derived from the replica name (spreads first picks)."""
    ordered = sorted(symbols)
    if not ordered:
        return []
    offset = int.from_bytes(hashlib.blake2b(replica.encode(), digest_size=4).digest(), "big") % len(ordered)
    return ordered[offset:] + ordered[:offset]


def deployment_id(strategy: str, interval: str, symbols: Sequence[str]) -> str:
    """Replicas that share a symbol list (and strategy, interval) count each other; others do not."""
    digest = hashlib.blake2b(",".join(sorted(symbols)).encode(), digest_size=6).hexdigest()
    return f"{strategy}:{interval}:{digest}"


@dataclass(frozen=True, slots=True)
class OwnershipChange:
    gained: tuple[str, ...] = ()
    lost: tuple[str, ...] = ()
    surplus: tuple[str, ...] = ()
    """Still held, above the fair share: to be released by :meth:`SymbolOwnership.release` between batches."""


class SymbolOwnership:
    """This replica's leases on ``lease_keys`` (symbol -> lease key) and its place among the replicas."""

    def __init__(
        self,
        redis: aioredis.Redis,
        lease_keys: dict[str, str],
        replica: str,
        deployment: str,
        ttl_ms: int,
        metrics: ProcessorMetrics,
    ) -> None:
        self._redis = redis
        self.replica = replica
        self._replicas_key = REPLICAS_PREFIX + deployment
        self._ttl_ms = ttl_ms
        self._metrics = metrics
        self._leases = {symbol: RedisLease(redis, key, replica, ttl_ms) for symbol, key in lease_keys.items()}
        self._order = acquisition_order(list(lease_keys), replica)
        self.replicas = 1

    @property
    def owned(self) -> list[str]:
        return sorted(symbol for symbol, lease in self._leases.items() if lease.held)

    def fence(self, symbol: str) -> Fence | None:
        return self._leases[symbol].fence

    async def refresh(self) -> OwnershipChange:
        """Heartbeat, renew, name the surplus over the fair share, take free symbols up to the share."""
        self.replicas = int(await _HEARTBEAT.run(self._redis, 1, self._replicas_key, self.replica, self._ttl_ms))
        lost: list[str] = []
        for symbol in self.owned:
            if not await self._leases[symbol].renew():
                lost.append(symbol)
                self._count_loss(symbol, "expired")
        share = fair_share(len(self._leases), self.replicas)
        surplus = self.owned[share:]
        gained: list[str] = []
        for symbol in self._order:
            if len(self.owned) >= share:
                break
            lease = self._leases[symbol]
            if not lease.held and await lease.acquire():
                gained.append(symbol)
                self._metrics.lease_acquisitions.add(1, {"symbol": symbol})
                log.info("lease acquired", symbol=symbol, fencing_number=lease.fence.number if lease.fence else None)
        self._metrics.owned_symbols.set(len(self.owned))
        return OwnershipChange(tuple(gained), tuple(lost), tuple(surplus))

    async def release(self, symbol: str) -> None:
        """Give ``symbol`` up for rebalancing (its work is done up to the last ack); the next replica takes it."""
        if await self._leases[symbol].release():
            self._count_loss(symbol, "rebalanced")
        self._metrics.owned_symbols.set(len(self.owned))

    def on_fenced(self, symbol: str, fence: Fence) -> None:
        """A write under ``fence`` was refused: that lease is gone (unless already replaced by a newer one)."""
        lease = self._leases[symbol]
        if lease.fence == fence:
            lease.fence = None
            self._count_loss(symbol, "fenced")
            self._metrics.owned_symbols.set(len(self.owned))

    async def release_all(self) -> None:
        """On shutdown: free every lease and leave the replica set, so others take over at once."""
        for symbol in self.owned:
            await self._leases[symbol].release()
        await self._redis.zrem(self._replicas_key, self.replica)
        self._metrics.owned_symbols.set(0)

    def _count_loss(self, symbol: str, reason: str) -> None:
        self._metrics.lease_losses.add(1, {"symbol": symbol, "reason": reason})
        if reason == "rebalanced":
            log.info("lease released for rebalancing", symbol=symbol)
        else:
            log.warning("lease lost", symbol=symbol, reason=reason)
