"""Redis stream sink: trades, every kline update and book tops -> ``market.{SYMBOL}`` (XADD MAXLEN ~).

Entries carry ids fixed before the first attempt (:mod:`collector.stream_ids`), so a batch retried
after a lost reply writes only the entries that are not on the stream yet: no duplicates.
A batch goes to each stream as ONE command: a Lua script running the XADDs. A first write sends the
batch's events as one argument, JSON lines, and the first entry id (:data:`XADD_LINES`: the ids of a
batch are consecutive); a retry sends (entry id, value) pairs (:data:`XADD_BATCH`). A pipeline of N
XADDs costs the client N packed commands and N parsed replies, and N arguments cost N packings: that
made them the collector's largest CPU cost. A script is not rolled back when one XADD fails, which
the retry path already handles (it looks up what is there).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import redis.asyncio as aioredis
from redis.exceptions import RedisError, ResponseError

from algo_common.clock import now_ms
from algo_common.domain.models import BookTop, Kline, MarketEvent, Trade
from algo_common.health import Health
from algo_common.lua import LuaScript
from algo_common.streams import EVENT_FIELD, encode_market_event, market_stream
from collector.metrics import CollectorMetrics
from collector.sinks import QueuedSink, SinkEvent, SinkOptions
from collector.stream_ids import StreamId, StreamIds, format_id, parse_id

_KIND = {Trade: "trade", Kline: "kline", BookTop: "book_top"}
_LATENCY_ATTRIBUTES = {cls: {"kind": kind} for cls, kind in _KIND.items()}

XADD_BATCH = LuaScript("""
for i = 3, #ARGV, 2 do
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], ARGV[i], ARGV[2], ARGV[i + 1])
end
return (#ARGV - 2) / 2
""")
"""KEYS[1] = stream; ARGV = maxlen, field name, then (entry id, value) pairs: each one ``XADD MAXLEN ~``."""

XADD_LINES = LuaScript(r"""
local ms, seq, n = ARGV[3], tonumber(ARGV[4]), 0
for line in string.gmatch(ARGV[5], '[^\n]+') do
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], ms .. '-' .. string.format('%d', seq + n), ARGV[2], line)
  n = n + 1
end
return n
""")
"""KEYS[1] = stream; ARGV = maxlen, field name, ms and seq of the first entry id, the values as lines
(JSON never holds a raw newline): entry i gets id ``ms-(seq+i)``, each one ``XADD MAXLEN ~``."""


@dataclass(slots=True)
class Entry:
    """One event on its way to a stream; ``entry_id`` is set on the first write attempt."""

    stream: str
    event: MarketEvent
    entry_id: StreamId = (0, 0)


class StreamSink(QueuedSink[Entry]):
    """Low-latency hand-off to the processor; XADD always with ``MAXLEN ~``."""

    name = "redis"
    dependency = "redis"
    retry_errors = (RedisError, OSError, TimeoutError)

    def __init__(
        self,
        redis: aioredis.Redis,
        maxlen: int,
        symbols: Sequence[str],
        health: Health,
        metrics: CollectorMetrics,
        options: SinkOptions,
        rng: random.Random | None = None,
    ) -> None:
        super().__init__(health, metrics, options, rng)
        self._redis = redis
        self._maxlen = maxlen
        self._ids = StreamIds()
        self._streams = [market_stream(symbol) for symbol in symbols]
        self._stream_of = {symbol: market_stream(symbol) for symbol in symbols}

    def select(self, event: SinkEvent) -> Entry | None:
        if type(event) not in _KIND:
            return None
        stream = self._stream_of.get(event.symbol) or market_stream(event.symbol)
        return Entry(stream, event)  # type: ignore[arg-type]  # a MarketEvent: checked above

    async def prepare(self) -> None:
        """Start ids above what a previous run left on the streams (its clock may have been ahead)."""
        for stream in self._streams:
            self._ids.raise_floor(stream, await self._last_id(stream))

    async def write(self, batch: list[Entry], retry: bool) -> None:
        if retry:
            todo = await self._unwritten(batch)
            if todo:
                await self._xadd(todo)
        else:
            by_stream = _by_stream(batch)
            now = now_ms()
            for stream, entries in by_stream.items():  # consecutive ids, as StreamIds.next would give
                ms, seq = self._ids.take(stream, now, len(entries))
                for entry in entries:
                    entry.entry_id = (ms, seq)
                    seq += 1
            for stream, entries in by_stream.items():  # every id is set before the first write
                ms, seq = entries[0].entry_id
                lines = b"\n".join([encode_market_event(entry.event) for entry in entries])
                await XADD_LINES.run(self._redis, 1, stream, self._maxlen, EVENT_FIELD, ms, seq, lines)
        self._record_latency(batch)

    async def _xadd(self, entries: list[Entry]) -> None:
        for stream, group in _by_stream(entries).items():
            args: list[bytes | str | int] = [self._maxlen, EVENT_FIELD]
            for entry in group:
                ms, seq = entry.entry_id
                args += (f"{ms}-{seq}", encode_market_event(entry.event))
            await XADD_BATCH.run(self._redis, 1, stream, *args)

    async def _unwritten(self, batch: list[Entry]) -> list[Entry]:
        """Entries of a retried batch not on their stream yet, re-id'd above the stream's last id if needed."""
        by_stream: dict[str, list[Entry]] = {}
        for entry in batch:
            by_stream.setdefault(entry.stream, []).append(entry)
        todo: list[Entry] = []
        for stream, entries in by_stream.items():
            ids = [entry.entry_id for entry in entries]
            found = await self._redis.xrange(stream, min=format_id(min(ids)), max=format_id(max(ids)))
            present = {parse_id(cast(bytes, entry_id)) for entry_id, _ in found or []}
            missing = [entry for entry in entries if entry.entry_id not in present]
            last = await self._last_id(stream)
            if any(entry.entry_id <= last for entry in missing):
                self._ids.raise_floor(stream, last)
                now = now_ms()
                for entry in missing:
                    entry.entry_id = self._ids.next(stream, now)
            todo.extend(missing)
        return todo

    async def _last_id(self, stream: str) -> StreamId:
        try:
            info = await self._redis.xinfo_stream(stream)
        except ResponseError:  # no such key: the stream is gone (e.g. Redis restarted without persistence)
            return (0, 0)
        return parse_id(info["last-generated-id"])

    def _record_latency(self, batch: list[Entry]) -> None:
        """One sample per event kind per write: its oldest event's, which bounds the others'.

        A sample costs the OpenTelemetry SDK about 5 us (attribute checks and hashing), as much as
        the rest of an event's write; per write, it costs nothing at high rates and is still one per
        event at low ones (a write then carries one event). ``collector_events_written`` counts events.
        """
        oldest: dict[type, int] = {}
        for entry in batch:
            event = entry.event
            kind = type(event)
            if event.ts_event < oldest.get(kind, event.ts_event + 1):
                oldest[kind] = event.ts_event
        now, record = now_ms(), self._metrics.event_latency.record
        for kind, ts_event in oldest.items():
            record(max(now - ts_event, 0) / 1000, _LATENCY_ATTRIBUTES[kind])


def _by_stream(entries: list[Entry]) -> dict[str, list[Entry]]:
    by_stream: dict[str, list[Entry]] = {}
    for entry in entries:
        group = by_stream.get(entry.stream)
        if group is None:
            by_stream[entry.stream] = [entry]
        else:
            group.append(entry)
    return by_stream
