"""Helpers shared by the test suites: polling with a deadline and reading Prometheus samples."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from prometheus_client.parser import text_string_to_metric_families

from algo_common.telemetry import render_prometheus

WAIT_S = 30.0
"""How long :func:`eventually` waits by default."""
POLL_S = 0.05
"""Pause between two probes of :func:`eventually`."""
PROBE_TIMEOUT_S = 5.0
"""A probe slower than this counts as 'not yet' (a request hanging on a stopped server)."""


async def eventually(check: Callable[[], Awaitable[bool]], what: str, timeout_s: float = WAIT_S) -> None:
    """Poll ``check`` until it holds; fail naming ``what``, ``timeout_s`` and the last error after the deadline.

    An exception from ``check`` (a dependency the test stopped on purpose is not back yet) or a probe
    slower than :data:`PROBE_TIMEOUT_S` counts as 'not yet' and is remembered for the failure message;
    an ``AssertionError`` from ``check`` is a wrong answer, not a late one, and fails at once.
    The check runs at least once, and once more after the last pause.
    """
    deadline = time.monotonic() + timeout_s
    last_error: Exception | None = None
    while True:
        try:
            if await asyncio.wait_for(check(), PROBE_TIMEOUT_S):
                return
        except AssertionError:
            raise
        except Exception as e:
            last_error = e
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what} (last error: {last_error!r})")
        await asyncio.sleep(POLL_S)


def metric_samples(sample_name: str, text: str | None = None, **labels: str) -> list[float]:
    """Values of the samples named exactly ``sample_name`` whose labels include ``labels`` (empty when none).

    ``text`` is a Prometheus text exposition (e.g. a /metrics body); default: this process's registry.
    """
    exposition = render_prometheus()[0].decode() if text is None else text
    return [
        sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
        if sample.name == sample_name and all(sample.labels.get(k) == v for k, v in labels.items())
    ]


def metric_value(sample_name: str, text: str | None = None, **labels: str) -> float:
    """Sum of :func:`metric_samples` (0 when there is none, as a counter before its first increment)."""
    return sum(metric_samples(sample_name, text, **labels), 0.0)
