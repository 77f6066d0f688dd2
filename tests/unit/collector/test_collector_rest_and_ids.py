"""The depth snapshot client maps every HTTP outcome to our error taxonomy; stream ids only grow."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from algo_common.errors import FatalError, RateLimited, TransientError
from collector.rest import DepthSnapshotClient
from collector.stream_ids import StreamIds, format_id, parse_id

SNAPSHOT = (
    Path(__file__).parents[2] / "fixtures" / "binance" / "rest" / "recording_depth_snapshot_runeeur.json"
).read_bytes()


def _client(handler: httpx.MockTransport) -> DepthSnapshotClient:
    return DepthSnapshotClient(httpx.AsyncClient(transport=handler), "https://api.example.test/", limit=5000)


async def test_snapshot_is_requested_with_the_max_limit_and_parsed_exactly() -> None:
    # arrange
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=SNAPSHOT)

    # act
    snapshot, ts_recv = await _client(httpx.MockTransport(handler)).fetch("RUNEEUR")
    # assert
    assert str(seen[0].url) == "https://api.example.test/api/v3/depth?symbol=RUNEEUR&limit=5000"
    assert snapshot.last_update_id == 15602511
    assert snapshot.bids[0] == (Decimal("6.25100000"), Decimal("69.30000000"))
    assert (len(snapshot.bids), len(snapshot.asks)) == (221, 468)
    assert ts_recv > 0


def _respond(status: int, body: bytes = b"{}", headers: dict[str, str] | None = None) -> httpx.MockTransport:
    return httpx.MockTransport(lambda _: httpx.Response(status, content=body, headers=headers))


def _raise(error: Exception) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error

    return httpx.MockTransport(handler)


@pytest.mark.parametrize(
    ("transport", "error", "retry_after_s"),
    [
        (_respond(429, headers={"Retry-After": "7"}), RateLimited, 7.0),
        (_respond(418, headers={"Retry-After": "120"}), RateLimited, 120.0),
        (_respond(429), RateLimited, 60.0),
        (_respond(500), TransientError, None),
        (_respond(503), TransientError, None),
        (_respond(400, b'{"code":-1121,"msg":"Invalid symbol."}'), FatalError, None),
        (_respond(200, b'{"lastUpdateId":1,"bids":[["abc","1"]],"asks":[]}'), TransientError, None),
        (_respond(200, b"<html>maintenance</html>"), TransientError, None),
        (_raise(httpx.ConnectError("refused")), TransientError, None),
        (_raise(httpx.ReadTimeout("slow")), TransientError, None),
    ],
)
async def test_each_http_failure_maps_to_our_taxonomy(
    transport: httpx.MockTransport, error: type[Exception], retry_after_s: float | None
) -> None:
    # act
    with pytest.raises(error) as info:
        await _client(transport).fetch("BTCUSDT")
    # assert
    assert type(info.value) is error
    if retry_after_s is not None:
        assert isinstance(info.value, RateLimited)
        assert info.value.retry_after_s == retry_after_s


def test_stream_ids_increase_within_a_millisecond_and_never_go_back() -> None:
    # arrange
    ids = StreamIds()
    # act
    issued = [ids.next("s", 100), ids.next("s", 100), ids.next("s", 99), ids.next("s", 101), ids.next("t", 5)]
    # assert
    assert issued == [(100, 0), (100, 1), (100, 2), (101, 0), (5, 0)]


def test_stream_ids_start_above_a_raised_floor() -> None:
    # arrange
    ids = StreamIds()
    ids.next("s", 100)
    # act
    ids.raise_floor("s", parse_id(b"200-3"))
    ids.raise_floor("s", (150, 0))  # lower floors change nothing
    # assert
    assert format_id(ids.next("s", 180)) == "200-4"
