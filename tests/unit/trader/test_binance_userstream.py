"""User data stream frames: dispatched by event type; one bad frame never stops the stream."""

from __future__ import annotations

from decimal import Decimal

import pytest

from algo_common.binance.signing import HmacSigner, verify_hmac, ws_api_payload
from algo_common.binance.trading_schemas import BinanceExecutionReport
from tests.unit.trader.binance_payloads import EXECUTION_REPORT_TRADE
from trader.venues.binance.clock import ServerClock
from trader.venues.binance.metrics import binance_metrics
from trader.venues.binance.userstream import StreamEnded, UserStream

SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"


async def _server_time() -> int:
    return 1_700_000_000_000


def _stream(reports: list[BinanceExecutionReport], fail: bool = False) -> UserStream:
    async def on_report(report: BinanceExecutionReport) -> None:
        if fail:
            raise RuntimeError("MongoDB is down")
        reports.append(report)

    async def on_connected() -> None:
        return None

    return UserStream(
        "ws://unused",
        HmacSigner("api-key", SECRET),
        ServerClock(_server_time, refresh_s=60, local_ms=lambda: 1_700_000_000_000),
        5000,
        on_report,
        on_connected,
        binance_metrics(),
        open_timeout_s=1,
        backoff_base_s=0.1,
        backoff_cap_s=1,
    )


async def test_an_execution_report_reaches_the_handler_with_decimals() -> None:
    # arrange
    reports: list[BinanceExecutionReport] = []
    # act
    await _stream(reports).dispatch(EXECUTION_REPORT_TRADE)
    # assert
    [report] = reports
    assert (report.x, report.X, report.t, report.l, report.n, report.N) == (
        "TRADE",
        "PARTIALLY_FILLED",
        12345,
        Decimal("0.4"),
        Decimal("0.0004"),
        "BTC",
    )


@pytest.mark.parametrize(
    "frame",
    [
        b'{"event": {"e": "serverShutdown", "E": 1770123456789}}',
        b'{"subscriptionId": 0, "event": {"e": "eventStreamTerminated", "E": 1728973001334}}',
    ],
)
async def test_the_end_of_the_subscription_asks_for_a_reconnect(frame: bytes) -> None:
    with pytest.raises(StreamEnded):
        await _stream([]).dispatch(frame)


@pytest.mark.parametrize(
    "frame",
    [
        b"not json",
        b'{"subscriptionId": 0, "event": {"e": "executionReport", "E": 1}}',
        b'{"subscriptionId": 0, "event": {"e": "outboundAccountPosition", "E": 1, "u": 1, "B": []}}',
        b'{"subscriptionId": 0, "event": {"e": "somethingNew", "E": 1}}',
        b'{"id": 3, "status": 200, "result": {}}',
    ],
)
async def test_other_and_malformed_frames_are_skipped(frame: bytes) -> None:
    # arrange
    reports: list[BinanceExecutionReport] = []
    # act
    await _stream(reports).dispatch(frame)
    # assert
    assert reports == []


async def test_a_report_the_ledger_cannot_take_is_left_to_reconciliation() -> None:
    await _stream([], fail=True).dispatch(EXECUTION_REPORT_TRADE)  # no exception: the stream goes on


def test_the_subscription_is_signed_by_the_ws_api_rule() -> None:
    # act
    params = _stream([])._signed_params()
    # assert
    assert params["apiKey"] == "api-key"
    assert params["timestamp"] == 1_700_000_000_000
    assert verify_hmac(SECRET, ws_api_payload(params), str(params["signature"]))
