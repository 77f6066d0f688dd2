"""Redis streams: capped publishing, consumer groups, reclaiming, acking after success.

Delivery is at-least-once: an entry is acked only after its handler finished, and entries a
dead consumer left pending are reclaimed with XAUTOCLAIM. Handlers are therefore idempotent,
keyed by the deterministic ids every message carries.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import msgspec
import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from algo_common.domain.models import MarketEvent, Signal
from algo_common.lease import Fence, LeaseLost
from algo_common.lua import LuaScript

SIGNALS_STREAM = "trade_signals_stream"
PROCESSOR_GROUP = "processor"
TRADER_GROUP = "trader"
EVENT_FIELD = b"event"

_market_encoder = msgspec.json.Encoder(decimal_format="string")
_market_decoder = msgspec.json.Decoder(MarketEvent)
_signal_decoder = msgspec.json.Decoder(Signal)

# Publish an entry only if its id was never published, in one atomic step: the marker KEYS[2] is a
# hash holding the entry id and a copy of the fields, so a producer that crashes after publishing and
# decides again is handed back exactly what the stream carries (even once MAXLEN has trimmed it).
# With a third key (fenced), nothing is written unless the lease KEYS[3] still holds the writer's
# token ARGV[1]. Replies: {1, id} published; {0, {field, value, ...}} duplicate ({0} for a marker
# of an older version, which kept no copy); {-1} lease lost.
_PUBLISH_ONCE = LuaScript("""
local o = 0
if #KEYS == 3 then
  if redis.call('GET', KEYS[3]) ~= ARGV[1] then return {-1} end
  o = 1
end
local kind = redis.call('TYPE', KEYS[2])['ok']
if kind == 'hash' then return {0, redis.call('HGETALL', KEYS[2])} end
if kind ~= 'none' then return {0} end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[o + 1], '*', unpack(ARGV, o + 3))
redis.call('HSET', KEYS[2], ':entry_id', id, unpack(ARGV, o + 3))
redis.call('EXPIRE', KEYS[2], ARGV[o + 2])
return {1, id}
""")
ENTRY_ID_FIELD = b":entry_id"
"""Reserved in a ``publish_once`` marker for the entry id; no published field may have this name."""


def market_stream(symbol: str) -> str:
    """``market.{SYMBOL}``: normalized trades, klines and book tops of one symbol."""
    return f"market.{symbol.upper()}"


def encode_market_event(event: MarketEvent) -> bytes:
    return _market_encoder.encode(event)


def decode_market_event(raw: bytes) -> MarketEvent:
    event: MarketEvent = _market_decoder.decode(raw)
    return event


def encode_signal(sig: Signal) -> bytes:
    return _market_encoder.encode(sig)


def decode_signal(raw: bytes) -> Signal:
    return _signal_decoder.decode(raw)


@dataclass(frozen=True, slots=True)
class StreamEntry:
    stream: str
    entry_id: bytes
    fields: dict[bytes, bytes]
    redelivered: bool = False
    """True unless this is the entry's first delivery to the group (XREADGROUP ``>``): re-read own
    pending or XAUTOCLAIMed entries may have been partly handled before, first deliveries never."""


async def publish(redis: aioredis.Redis, stream: str, fields: dict[bytes, bytes], maxlen: int) -> bytes:
    """XADD with ``MAXLEN ~``: the stream never grows without bound."""
    entry_id = await redis.xadd(stream, cast(Any, fields), maxlen=maxlen, approximate=True)
    return cast(bytes, entry_id)


async def publish_batch(
    redis: aioredis.Redis, entries: Sequence[tuple[str, dict[bytes, bytes]]], maxlen: int
) -> list[bytes]:
    """Many XADDs in one round trip (pipeline without MULTI)."""
    async with redis.pipeline(transaction=False) as pipe:
        for stream, fields in entries:
            pipe.xadd(stream, cast(Any, fields), maxlen=maxlen, approximate=True)
        result: list[bytes] = await pipe.execute()
    return result


@dataclass(frozen=True, slots=True)
class Publication:
    """What the stream carries under a dedupe key once :func:`publish_or_find` returns."""

    new: bool
    """True when this call wrote the entry; False when the key had been published before."""
    entry_id: bytes | None
    """The entry's id; None only for a duplicate whose marker predates the stored copy."""
    fields: dict[bytes, bytes] | None
    """The fields the stream carries for the key (this call's, or the earlier publisher's copy)."""


async def publish_or_find(
    redis: aioredis.Redis,
    stream: str,
    dedupe_key: str,
    fields: dict[bytes, bytes],
    maxlen: int,
    dedupe_ttl_s: int = 7 * 24 * 3600,
    fence: Fence | None = None,
) -> Publication:
    """XADD unless ``dedupe_key`` was published before; either way, return what the stream carries for it.

    A producer deciding again after a crash thus learns the payload that was published first, and
    can store that instead of its own (e.g. a later decision time). With ``fence``, the lease check
    and the write are one atomic step: :class:`LeaseLost` when the lease no longer holds the
    fence's token (nothing is written, nothing is returned).
    """
    if ENTRY_ID_FIELD in fields:
        raise ValueError(f"field name {ENTRY_ID_FIELD!r} is reserved")
    args: list[bytes | str | int] = [maxlen, dedupe_ttl_s]
    for key, value in fields.items():
        args.extend((key, value))
    marker = f"published:{dedupe_key}"
    if fence is None:
        reply = await _PUBLISH_ONCE.run(redis, 2, stream, marker, *args)
    else:
        reply = await _PUBLISH_ONCE.run(redis, 3, stream, marker, fence.key, fence.token, *args)
    status = reply[0]
    if status == -1:
        assert fence is not None  # only a fenced publish is refused
        raise LeaseLost(fence.key)
    if status == 1:
        return Publication(True, cast(bytes, reply[1]), dict(fields))
    if len(reply) < 2:  # marker of an older version: published, content unknown here
        return Publication(False, None, None)
    flat = cast(list[bytes], reply[1])
    stored = dict(zip(flat[::2], flat[1::2], strict=True))
    entry_id = stored.pop(ENTRY_ID_FIELD)
    return Publication(False, entry_id, stored)


async def publish_once(
    redis: aioredis.Redis,
    stream: str,
    dedupe_key: str,
    fields: dict[bytes, bytes],
    maxlen: int,
    dedupe_ttl_s: int = 7 * 24 * 3600,
    fence: Fence | None = None,
) -> bytes | None:
    """XADD unless ``dedupe_key`` was published before; returns the entry id or None (duplicate).

    With ``fence``, the lease check and the write are one atomic step: :class:`LeaseLost` when
    the lease no longer holds the fence's token (nothing is written).
    """
    publication = await publish_or_find(redis, stream, dedupe_key, fields, maxlen, dedupe_ttl_s, fence)
    return publication.entry_id if publication.new else None


async def ensure_group(redis: aioredis.Redis, stream: str, group: str) -> None:
    """Create the consumer group at id 0 (so nothing already in the stream is skipped), idempotently."""
    try:
        await redis.xgroup_create(stream, group, id="0", mkstream=True)
    except ResponseError as e:
        if "BUSYGROUP" not in str(e):
            raise


async def claim_pending(redis: aioredis.Redis, stream: str, group: str, consumer: str, count: int = 1000) -> int:
    """Make ``consumer`` the owner of every entry of ``stream`` pending in ``group`` (XAUTOCLAIM, idle 0).

    For a consumer that has just become the only one allowed to handle ``stream`` (a lease): what
    the previous one read but never acked is then re-read as this consumer's own pending entries.
    """
    cursor: bytes | str = b"0-0"
    claimed = 0
    while True:
        reply = await redis.xautoclaim(stream, group, consumer, min_idle_time=0, start_id=cursor, count=count)
        cursor, messages = reply[0], reply[1]
        claimed += len(messages)
        if cursor in (b"0-0", "0-0"):
            return claimed


class GroupConsumer:
    """One consumer of a group over one or more streams.

    :meth:`read` first returns this consumer's own pending entries (left by an earlier run with
    the same name), then entries other consumers left idle longer than ``claim_idle_ms`` (looked
    for at most every ``reclaim_every_s``: a busy consumer saves that round trip per read), then
    new ones. Call :meth:`ack` only after an entry's effects are durable.
    """

    def __init__(
        self,
        redis: aioredis.Redis,
        streams: Sequence[str],
        group: str,
        consumer: str,
        *,
        count: int = 100,
        block_ms: int = 1000,
        claim_idle_ms: int = 30_000,
        reclaim_every_s: float = 0.0,
    ) -> None:
        self._redis = redis
        self.streams = list(streams)
        self.group = group
        self.consumer = consumer
        self._count = count
        self._block_ms = block_ms
        self._claim_idle_ms = claim_idle_ms
        self._reclaim_every_s = reclaim_every_s  # 0: before every read of new entries
        self._next_reclaim = 0.0
        self._own_pending_done = False
        self._claim_cursor: dict[str, bytes] = dict.fromkeys(self.streams, b"0-0")

    async def ensure_groups(self) -> None:
        for stream in self.streams:
            await ensure_group(self._redis, stream, self.group)

    async def read(self) -> list[StreamEntry]:
        if not self._own_pending_done:
            entries = await self._read_from("0")
            if entries:
                return entries
            self._own_pending_done = True
        if time.monotonic() >= self._next_reclaim:
            self._next_reclaim = time.monotonic() + self._reclaim_every_s
            claimed = await self.reclaim()
            if claimed:
                return claimed
        return await self._read_from(">", block=True)

    async def reclaim(self) -> list[StreamEntry]:
        """XAUTOCLAIM entries idle longer than ``claim_idle_ms`` from dead or stuck consumers."""
        entries: list[StreamEntry] = []
        for stream in self.streams:
            reply = await self._redis.xautoclaim(
                stream,
                self.group,
                self.consumer,
                min_idle_time=self._claim_idle_ms,
                start_id=self._claim_cursor[stream],
                count=self._count,
            )
            next_id, messages = reply[0], reply[1]
            self._claim_cursor[stream] = next_id
            entries.extend(StreamEntry(stream, entry_id, fields, True) for entry_id, fields in messages if fields)
        return entries

    async def ack(self, entries: Sequence[StreamEntry]) -> None:
        by_stream: dict[str, list[bytes]] = {}
        for entry in entries:
            by_stream.setdefault(entry.stream, []).append(entry.entry_id)
        for stream, ids in by_stream.items():
            await self._redis.xack(stream, self.group, *ids)

    async def _read_from(self, start: str, block: bool = False) -> list[StreamEntry]:
        reply: list[tuple[bytes, list[tuple[bytes, dict[bytes, bytes]]]]] | None
        reply = await self._redis.xreadgroup(  # type: ignore[assignment]
            self.group,
            self.consumer,
            dict.fromkeys(self.streams, start),
            count=self._count,
            block=self._block_ms if block else None,
        )
        entries: list[StreamEntry] = []
        for stream_name, messages in reply or []:
            name = stream_name.decode()
            entries.extend(StreamEntry(name, entry_id, fields, start != ">") for entry_id, fields in messages if fields)
        return entries
