"""Error taxonomy. Library errors are translated where they happen (``raise X(...) from e``);
only :class:`TransientError` and its subclasses are retried."""

from __future__ import annotations


class AlgoTradeError(Exception):
    """Base of every error this project raises on purpose."""


class TransientError(AlgoTradeError):
    """Worth retrying: a dependency is briefly unavailable, a timeout, a 5xx."""


class RateLimited(TransientError):
    """The venue asked us to slow down (HTTP 429) or banned us for a while (HTTP 418)."""

    def __init__(self, message: str, retry_after_s: float, banned: bool = False) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
        self.banned = banned


class OutcomeUnknown(TransientError):
    """A request may or may not have taken effect (timeout, 5xx): query before retrying."""


class BadMessage(AlgoTradeError):
    """Input that cannot be parsed or violates its schema; counted, logged, skipped."""

    def __init__(self, reason: str, raw: bytes | str = b"") -> None:
        super().__init__(reason)
        self.reason = reason
        self.raw = raw


class OrderRejected(AlgoTradeError):
    """The venue or our risk checks refused an order; final, never retried."""

    def __init__(self, reason: str, code: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class FatalError(AlgoTradeError):
    """The service cannot go on (bad configuration, bad credentials)."""
