"""The error -> recovery decision table of a failed order send (BINANCE.md §3-§5)."""

from __future__ import annotations

import pytest

from algo_common.errors import OutcomeUnknown, RateLimited, TransientError
from trader.venues.binance.errors import Action, BinanceApiError, decide


@pytest.mark.parametrize(
    ("error", "action"),
    [
        (OutcomeUnknown("timed out"), Action.QUERY),
        (OutcomeUnknown("HTTP 503"), Action.QUERY),
        (BinanceApiError(400, -1007, "Timeout waiting for response from backend server."), Action.QUERY),
        (BinanceApiError(400, -2010, "Duplicate order sent."), Action.ADOPT),
        (BinanceApiError(400, -2010, "Account has insufficient balance for requested action."), Action.REJECT),
        (BinanceApiError(400, -1013, "Filter failure: LOT_SIZE"), Action.REJECT),
        (BinanceApiError(400, -1121, "Invalid symbol."), Action.REJECT),
        (BinanceApiError(400, -1021, "Timestamp for this request is outside of the recvWindow."), Action.NOT_READY),
        (BinanceApiError(400, -1022, "Signature for this request is not valid."), Action.NOT_READY),
        (BinanceApiError(401, -2015, "Invalid API-key, IP, or permissions for action."), Action.NOT_READY),
        (RateLimited("HTTP 429", 1.0), Action.WAIT),
        (RateLimited("HTTP 418", 120.0, banned=True), Action.WAIT),
        (TransientError("something else"), Action.NOT_READY),
    ],
)
def test_each_failure_has_one_recovery(error: Exception, action: Action) -> None:
    assert decide(error) is action
