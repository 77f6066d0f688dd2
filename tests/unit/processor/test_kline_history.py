"""The backfill's REST client against a scripted Binance (httpx.MockTransport): pages and error mapping."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from algo_common.binance.rest import DEFAULT_RETRY_AFTER_S
from algo_common.errors import FatalError, RateLimited, TransientError
from processor.kline_history import KlineHistory

MINUTE = 60_000
T0 = 1_700_000_040_000


def rows(n: int) -> list[list[object]]:
    """``GET /api/v3/klines`` rows in Binance's format (strings for prices, ms for times)."""
    return [
        [T0 + i * MINUTE, "100.1", "101", "99", "100.5", "2.5", T0 + (i + 1) * MINUTE - 1, "251.25", 7, "1", "100", "0"]
        for i in range(n)
    ]


def client(handler: Callable[[httpx.Request], httpx.Response]) -> KlineHistory:
    return KlineHistory(httpx.AsyncClient(transport=httpx.MockTransport(handler)), "https://api.binance.test/")


async def test_an_open_ended_page_asks_one_more_row_and_drops_the_forming_bar() -> None:
    # arrange
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=json.dumps(rows(4)))

    # act
    klines = await client(handler).closed_before("BTCUSDT", None, 3)
    # assert
    assert seen[0].url.path == "/api/v3/klines"
    assert dict(seen[0].url.params) == {"symbol": "BTCUSDT", "interval": "1m", "limit": "4"}
    assert [k.open_time for k in klines] == [T0, T0 + MINUTE, T0 + 2 * MINUTE]
    assert all(k.closed and k.interval == "1m" and k.symbol == "BTCUSDT" for k in klines)
    assert str(klines[0].close) == "100.5"


async def test_a_page_before_a_closed_kline_keeps_every_row() -> None:
    # arrange
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=json.dumps(rows(2)))

    # act
    klines = await client(handler).closed_before("BTCUSDT", T0 + MINUTE, 2)
    # assert
    assert dict(seen[0].url.params) == {
        "symbol": "BTCUSDT",
        "interval": "1m",
        "limit": "2",
        "endTime": str(T0 + MINUTE),
    }
    assert len(klines) == 2


@pytest.mark.parametrize(
    ("response", "error", "retry_after_s", "banned"),
    [
        (httpx.Response(429, headers={"Retry-After": "7"}), RateLimited, 7.0, False),
        (httpx.Response(418, headers={"Retry-After": "120"}), RateLimited, 120.0, True),
        (httpx.Response(429), RateLimited, DEFAULT_RETRY_AFTER_S, False),
        (httpx.Response(503), TransientError, None, None),
        (httpx.Response(200, content=b"{not json"), TransientError, None, None),
        (httpx.Response(400, json={"code": -1121, "msg": "Invalid symbol."}), FatalError, None, None),
    ],
)
async def test_http_failures_map_to_the_error_taxonomy(
    response: httpx.Response, error: type[Exception], retry_after_s: float | None, banned: bool | None
) -> None:
    # act
    with pytest.raises(error) as raised:
        await client(lambda _: response).closed_before("BTCUSDT", None)
    # assert
    if isinstance(raised.value, RateLimited):
        assert (raised.value.retry_after_s, raised.value.banned) == (retry_after_s, banned)


async def test_a_network_error_is_transient() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(TransientError):
        await client(handler).closed_before("BTCUSDT", None)
