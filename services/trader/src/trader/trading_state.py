"""Trading state ACTIVE / REDUCING / HALTED, shared by every trader replica through one Redis key.

The Redis key ``trader:trading_state`` is the source of truth: an operator sets it (``python -m
trader.control``, see the README), a breached daily-loss limit sets HALTED on its own, and every
replica reads it once per signal (one GET), so a HALT stops all new orders from the next message
on. A missing key means ACTIVE. The value is JSON ``{"state", "reason", "by", "ts"}``, so anyone
can see who halted trading and why.
"""

from __future__ import annotations

from enum import StrEnum

import msgspec
import redis.asyncio as aioredis

STATE_KEY = "trader:trading_state"


class TradingState(StrEnum):
    ACTIVE = "ACTIVE"
    """Every order the risk checks accept."""
    REDUCING = "REDUCING"
    """Only orders that reduce a position (SELLs: spot is long-only)."""
    HALTED = "HALTED"
    """No new order at all."""


STATE_LEVEL = {TradingState.ACTIVE: 0, TradingState.REDUCING: 1, TradingState.HALTED: 2}
"""The value of the ``trader_trading_state`` gauge."""


class StateRecord(msgspec.Struct, frozen=True, kw_only=True):
    state: TradingState = TradingState.ACTIVE
    reason: str = ""
    by: str = ""
    ts: int = 0


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(StateRecord)
ACTIVE = StateRecord()


class TradingStateStore:
    """Reads and writes the shared trading state."""

    def __init__(self, redis: aioredis.Redis, key: str = STATE_KEY) -> None:
        self._redis = redis
        self._key = key

    async def read(self) -> StateRecord:
        """The current state; ACTIVE when never set. An unreadable value counts as HALTED (fail safe)."""
        raw = await self._redis.get(self._key)
        if raw is None:
            return ACTIVE
        try:
            return _decoder.decode(raw)
        except msgspec.DecodeError:
            return StateRecord(state=TradingState.HALTED, reason=f"unreadable {self._key}: {raw[:100]!r}")

    async def write(self, record: StateRecord) -> None:
        await self._redis.set(self._key, _encoder.encode(record))
