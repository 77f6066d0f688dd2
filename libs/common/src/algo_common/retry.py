"""The one backoff policy: exponential, capped, with full jitter; only transient errors retry."""

from __future__ import annotations

import random

from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from algo_common.errors import TransientError


def backoff_delay(attempt: int, base_s: float, cap_s: float, rng: random.Random | None = None) -> float:
    """Delay before reconnect attempt ``attempt`` (0-based): uniform in [0, min(cap, base * 2**attempt)].

    Full jitter spreads reconnecting clients apart, so a venue outage does not end in a stampede.
    """
    ceiling = min(cap_s, base_s * (2 ** min(attempt, 32)))
    return (rng or random).uniform(0, ceiling)


def retrying(attempts: int = 5, base_s: float = 0.1, cap_s: float = 5.0) -> AsyncRetrying:
    """``async for attempt in retrying(): with attempt: ...`` retries :class:`TransientError` only."""
    return AsyncRetrying(
        retry=retry_if_exception_type(TransientError),
        wait=wait_random_exponential(multiplier=base_s, max=cap_s),
        stop=stop_after_attempt(attempts),
        reraise=True,
    )
