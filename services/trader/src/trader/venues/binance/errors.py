"""Binance failures as the trader's error taxonomy, and what to do about each (pure).

Binance's contract (BINANCE.md §3-§5): a 5xx, ``-1007`` or a lost response means the outcome is
UNKNOWN (the order may exist); 429/418 mean stop for ``Retry-After``; other 4xx are final answers
about that request. The decision table below is the only place that maps them to actions.
"""

from __future__ import annotations

from enum import StrEnum

from algo_common.errors import AlgoTradeError, OutcomeUnknown, RateLimited, TransientError

UNKNOWN_OUTCOME_CODE = -1007
INVALID_TIMESTAMP = -1021
NO_SUCH_ORDER = -2013
NEW_ORDER_REJECTED = -2010
DUPLICATE_ORDER_MSG = "Duplicate order sent."
# Credentials, permissions or signature: nothing about the order; the operator must act.
AUTH_CODES = frozenset({-1002, -1022, -2014, -2015})


class BinanceApiError(AlgoTradeError):
    """A 4xx answer with Binance's ``{"code", "msg"}`` body: the request was refused."""

    def __init__(self, status: int, code: int, msg: str) -> None:
        super().__init__(f"HTTP {status}, code {code}: {msg}")
        self.status = status
        self.code = code
        self.msg = msg


class VenueUnavailable(TransientError):
    """The venue cannot take orders from us right now (credentials, clock); signals stay pending."""


class Action(StrEnum):
    QUERY = "query"
    """Outcome unknown: look the order up by client id; resend the same id only if it does not exist."""
    ADOPT = "adopt"
    """The order already exists (duplicate client id): take its state from a query."""
    REJECT = "reject"
    """A final refusal of this order: store it REJECTED with Binance's reason."""
    WAIT = "wait"
    """Rate limited or banned: send nothing until Retry-After; the signal stays pending."""
    NOT_READY = "not_ready"
    """Credentials, signature or clock: keep the signal pending, be unready until fixed."""


def decide(error: Exception) -> Action:
    """What a failed ``POST /api/v3/order`` calls for."""
    if isinstance(error, RateLimited):
        return Action.WAIT
    if isinstance(error, OutcomeUnknown):
        return Action.QUERY
    if isinstance(error, BinanceApiError):
        if error.code == UNKNOWN_OUTCOME_CODE:
            return Action.QUERY
        if error.code == NEW_ORDER_REJECTED and DUPLICATE_ORDER_MSG.lower() in error.msg.lower():
            return Action.ADOPT
        if error.code in AUTH_CODES or error.code == INVALID_TIMESTAMP:
            return Action.NOT_READY
        return Action.REJECT
    return Action.NOT_READY
