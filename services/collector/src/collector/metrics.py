"""The collector's OpenTelemetry instruments (names as in the contracts), created once per process.

Per-event and per-write figures (events received and written, queue depths) are plain integers
read by observable instruments when /metrics is scraped: an OTel ``Counter.add`` costs
microseconds (attribute hashing and cleaning), which per message would be a large share of the
collector's CPU.
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Protocol
from weakref import WeakSet

from opentelemetry.metrics import CallbackOptions, Counter, Histogram, Observation

from algo_common.telemetry import get_meter


class QueueOwner(Protocol):
    name: str

    @property
    def depth(self) -> int: ...


@dataclass(frozen=True)
class CollectorMetrics:
    received: Tally[tuple[str, str]]  # (symbol, kind) -> events: ``collector_events_received`` reads it
    written: Tally[str]  # sink -> events durably written: ``collector_events_written`` reads it
    sinks: WeakSet[QueueOwner]  # live sinks: ``collector_queue_depth`` reads their depth
    events_dropped: Counter  # {reason}
    reconnects: Counter
    book_resyncs: Counter  # {symbol, reason}
    event_latency: Histogram  # seconds, exchange event time -> stream write
    dependency_errors: Counter  # {dependency}
    gaps: Counter  # {symbol, kind}: holes in trade ids / closed klines (live, or left by a full buffer)
    backfilled: Counter  # {kind}: events fetched from REST into a hole
    backfill_missing: Counter  # {kind}: events of a hole the venue could not return any more
    rotations: Counter  # {reason}: planned connection replacements (make-before-break)
    duplicates: Counter  # {kind}: repeats of a connection overlap, skipped (expected, not a loss)


@cache
def collector_metrics() -> CollectorMetrics:
    """One set of instruments per process: services built repeatedly in tests share them."""
    meter = get_meter("collector")
    received: Tally[tuple[str, str]] = Tally()
    written: Tally[str] = Tally()
    sinks: WeakSet[QueueOwner] = WeakSet()

    def observe_received(_: CallbackOptions) -> Iterable[Observation]:
        return [Observation(n, {"symbol": symbol, "kind": kind}) for (symbol, kind), n in list(received.items())]

    def observe_written(_: CallbackOptions) -> Iterable[Observation]:
        return [Observation(n, {"sink": sink}) for sink, n in list(written.items())]

    def observe_depth(_: CallbackOptions) -> Iterable[Observation]:
        depths: Tally[str] = Tally()
        for sink in list(sinks):
            depths[sink.name] += sink.depth
        return [Observation(depth, {"sink": name}) for name, depth in depths.items()]

    meter.create_observable_counter(
        "collector_events_received", [observe_received], description="Market events parsed from the exchange feed."
    )
    meter.create_observable_counter(
        "collector_events_written",
        [observe_written],
        description="Events durably written, by sink (mongodb | redis).",
    )
    meter.create_observable_gauge(
        "collector_queue_depth", [observe_depth], description="Events waiting in a sink queue, by sink."
    )
    return CollectorMetrics(
        received=received,
        written=written,
        sinks=sinks,
        events_dropped=meter.create_counter(
            "collector_events_dropped", description="Frames or events skipped, by reason."
        ),
        reconnects=meter.create_counter("collector_reconnects", description="WebSocket reconnect attempts."),
        book_resyncs=meter.create_counter(
            "collector_book_resyncs", description="Local order books rebuilt from a new snapshot, by reason."
        ),
        event_latency=meter.create_histogram(
            "collector_event_latency",
            unit="s",
            description="Exchange event time to stream write, per write and kind: the oldest event's.",
        ),
        dependency_errors=meter.create_counter(
            "collector_dependency_errors", description="Failed calls to Redis, MongoDB or the REST API."
        ),
        gaps=meter.create_counter(
            "collector_gaps", description="Holes in trade ids or closed klines, found live or left by a full buffer."
        ),
        backfilled=meter.create_counter(
            "collector_backfilled", description="Trades and klines fetched from REST to fill a hole, by kind."
        ),
        backfill_missing=meter.create_counter(
            "collector_backfill_missing", description="Events of a hole the venue no longer returns, by kind."
        ),
        rotations=meter.create_counter(
            "collector_rotations", description="Connections replaced new-before-old (24 h limit, serverShutdown)."
        ),
        duplicates=meter.create_counter(
            "collector_duplicates",
            description="Trades and klines received twice (connection overlaps), skipped by id; expected.",
        ),
    )
