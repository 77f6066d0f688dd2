"""OpenTelemetry metrics exported in Prometheus format, set up once per process.

Histograms use explicit buckets in seconds that resolve sub-millisecond to multi-second
latencies; the default OTel buckets (0, 5, 10, 25 ... in the unit of the instrument) cannot.
Process CPU and memory come from prometheus_client's process collector on the same registry.
"""

from __future__ import annotations

import threading

from opentelemetry import metrics
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.metrics import Meter
from opentelemetry.sdk.metrics import Histogram, MeterProvider
from opentelemetry.sdk.metrics.view import ExplicitBucketHistogramAggregation, View
from opentelemetry.sdk.resources import Resource
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

LATENCY_BUCKETS_S = (
    0.0001, 0.00025, 0.0005, 0.00075, 0.001, 0.0015, 0.002, 0.003, 0.005, 0.0075,
    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
)  # fmt: skip

_lock = threading.Lock()
_provider: MeterProvider | None = None


def setup_metrics(service: str) -> MeterProvider:
    """Create the process's MeterProvider with a Prometheus reader (idempotent)."""
    global _provider  # noqa: PLW0603 - one provider per process is the OTel model
    with _lock:
        if _provider is None:
            _provider = MeterProvider(
                resource=Resource.create({"service.name": service}),
                metric_readers=[PrometheusMetricReader()],
                views=[
                    View(
                        instrument_type=Histogram,
                        aggregation=ExplicitBucketHistogramAggregation(boundaries=LATENCY_BUCKETS_S),
                    )
                ],
            )
            metrics.set_meter_provider(_provider)
        return _provider


def get_meter(name: str) -> Meter:
    """A meter from the process provider (set it up with :func:`setup_metrics` first)."""
    if _provider is None:
        setup_metrics(name)
    assert _provider is not None
    return _provider.get_meter(name)


def render_prometheus() -> tuple[bytes, str]:
    """The Prometheus text exposition of every metric in this process, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def start_profiling(service: str, server_address: str | None) -> bool:
    """Continuous profiling with pyroscope-io when a server address is configured."""
    if not server_address:
        return False
    import pyroscope  # noqa: PLC0415 - its native agent is loaded only when profiling is on

    pyroscope.configure(
        application_name=f"algo-trade.{service}", server_address=server_address, tags={"service": service}
    )
    return True
