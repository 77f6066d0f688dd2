"""The collector's OpenTelemetry instruments (names as in the contracts), created once per process."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from opentelemetry.metrics import Counter, Histogram, UpDownCounter

from algo_common.telemetry import get_meter


@dataclass(frozen=True, slots=True)
class CollectorMetrics:
    events_received: Counter  # {symbol, kind}
    events_written: Counter  # {sink}
    events_dropped: Counter  # {reason}
    reconnects: Counter
    book_resyncs: Counter  # {symbol, reason}
    queue_depth: UpDownCounter  # {sink}
    event_latency: Histogram  # seconds, exchange event time -> stream write
    dependency_errors: Counter  # {dependency}


@cache
def collector_metrics() -> CollectorMetrics:
    """One set of instruments per process: services built repeatedly in tests share them."""
    meter = get_meter("collector")
    return CollectorMetrics(
        events_received=meter.create_counter(
            "collector_events_received", description="Market events parsed from the exchange feed."
        ),
        events_written=meter.create_counter(
            "collector_events_written", description="Events durably written, by sink (mongodb | redis)."
        ),
        events_dropped=meter.create_counter(
            "collector_events_dropped", description="Frames or events skipped, by reason."
        ),
        reconnects=meter.create_counter("collector_reconnects", description="WebSocket reconnect attempts."),
        book_resyncs=meter.create_counter(
            "collector_book_resyncs", description="Local order books rebuilt from a new snapshot, by reason."
        ),
        queue_depth=meter.create_up_down_counter(
            "collector_queue_depth", description="Events waiting in a sink queue, by sink."
        ),
        event_latency=meter.create_histogram(
            "collector_event_latency", unit="s", description="Exchange event time to stream write."
        ),
        dependency_errors=meter.create_counter(
            "collector_dependency_errors", description="Failed calls to Redis, MongoDB or the REST API."
        ),
    )
