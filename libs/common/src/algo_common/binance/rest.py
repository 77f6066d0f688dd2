"""Public REST GETs to Binance with HTTP failures translated into our error taxonomy, in one place.

429 / 418 -> :class:`RateLimited` carrying ``Retry-After`` (418: banned), network errors and 5xx
-> :class:`TransientError`, any other non-200 -> :class:`FatalError` (a request we must not repeat).
The collector's snapshots and backfill and the processor's warm-up backfill both go through it; the
trader's signed requests have their own rules (an order's outcome may be unknown) but read
``Retry-After`` with :func:`retry_after_s`.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from algo_common.clock import now_ms
from algo_common.errors import FatalError, RateLimited, TransientError

DEFAULT_RETRY_AFTER_S = 60.0
"""Wait after a 429 / 418 that carries no usable ``Retry-After``."""


def retry_after_s(headers: Mapping[str, str]) -> float:
    """Seconds the venue asked us to wait (``Retry-After``, any case), or :data:`DEFAULT_RETRY_AFTER_S`."""
    raw = next((value for name, value in headers.items() if name.lower() == "retry-after"), "")
    try:
        return max(0.0, float(raw))
    except ValueError:
        return DEFAULT_RETRY_AFTER_S


async def get(
    http: httpx.AsyncClient, url: str, params: Mapping[str, str | int], what: str
) -> tuple[httpx.Response, int]:
    """The response and our receive time (epoch ms); a network failure is a :class:`TransientError`."""
    try:
        response = await http.get(url, params=dict(params))
    except httpx.HTTPError as e:
        raise TransientError(f"{what}: {type(e).__name__}: {e}") from e
    return response, now_ms()


def raise_for_status(response: httpx.Response, what: str) -> None:
    """Nothing for a 200; otherwise the error the answer means (see the module docstring)."""
    status = response.status_code
    if status in (418, 429):
        raise RateLimited(f"{what}: HTTP {status}", retry_after_s(response.headers), banned=status == 418)
    if status >= 500:
        raise TransientError(f"{what}: HTTP {status}")
    if status != 200:
        raise FatalError(f"{what}: HTTP {status}: {response.text[:200]}")
