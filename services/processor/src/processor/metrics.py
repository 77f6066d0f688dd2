"""The processor's OpenTelemetry instruments (names fixed by the contracts)."""

from __future__ import annotations

from dataclasses import dataclass

from opentelemetry.metrics import Counter, Histogram
from opentelemetry.metrics import _Gauge as Gauge  # the synchronous gauge; the API exports it under this name

from algo_common.telemetry import get_meter


@dataclass(frozen=True, slots=True)
class ProcessorMetrics:
    events_consumed: Counter
    bars: Counter
    signals: Counter
    events_dropped: Counter
    signal_latency: Histogram
    stream_lag: Gauge
    dependency_errors: Counter
    owned_symbols: Gauge
    lease_acquisitions: Counter
    lease_losses: Counter
    backfilled_klines: Counter
    gap_klines: Counter

    @classmethod
    def create(cls) -> ProcessorMetrics:
        """Instruments on the process meter provider; creating them twice returns the same ones."""
        meter = get_meter("processor")
        return cls(
            events_consumed=meter.create_counter(
                "processor_events_consumed", description="Market stream entries consumed, by symbol and kind."
            ),
            bars=meter.create_counter("processor_bars", description="Closed bars fed to the strategy (live)."),
            signals=meter.create_counter("processor_signals", description="Signals published, by symbol and side."),
            events_dropped=meter.create_counter(
                "processor_events_dropped", description="Stream entries skipped, by reason."
            ),
            signal_latency=meter.create_histogram(
                "processor_signal_latency",
                unit="s",
                description="Exchange event time of the bar's closing kline -> signal on the stream.",
            ),
            stream_lag=meter.create_gauge(
                "processor_stream_lag", description="Market stream entries not yet acked by the processor group."
            ),
            dependency_errors=meter.create_counter(
                "processor_dependency_errors", description="Failed calls to Redis or MongoDB, by dependency."
            ),
            owned_symbols=meter.create_gauge(
                "processor_owned_symbols", description="Symbols whose lease this replica holds."
            ),
            lease_acquisitions=meter.create_counter(
                "processor_lease_acquisitions", description="Symbol leases taken, by symbol."
            ),
            lease_losses=meter.create_counter(
                "processor_lease_losses",
                description="Symbol leases given up, by symbol and reason (expired, fenced, rebalanced).",
            ),
            backfilled_klines=meter.create_counter(
                "processor_backfilled_klines", description="Warm-up klines fetched from REST and stored, by symbol."
            ),
            gap_klines=meter.create_counter(
                "processor_gap_klines", description="Klines the stream skipped, read from MongoDB instead, by symbol."
            ),
        )
