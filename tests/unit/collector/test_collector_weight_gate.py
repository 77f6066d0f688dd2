"""REST weight: the gate spends within budget, follows the venue's used-weight header, pauses on 429/418."""

from __future__ import annotations

import contextlib
import json
from decimal import Decimal

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from algo_common.errors import FatalError, RateLimited, TransientError
from collector.rest import HISTORICAL_TRADES_PATH, HistoryClient, RestClient
from collector.weight_gate import WEIGHT_HEADER, WeightGate
from collector.ws_client import AttemptWindow


class FakeClock:
    """Wall time that only moves when the gate sleeps."""

    def __init__(self, start: float = 1_000_040.0) -> None:  # 20 s into a minute (16_667 * 60 = 1_000_020)
        self.now = start
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def _gate(clock: FakeClock, budget: int = 100) -> WeightGate:
    return WeightGate(budget, wall_time=clock.time, sleep=clock.sleep)


async def test_requests_within_the_budget_do_not_wait_and_the_next_minute_resets_it() -> None:
    # arrange: 20 s into the minute, 40 s left
    clock = FakeClock()
    gate = _gate(clock, budget=10)
    # act
    for _ in range(2):
        await gate.acquire(4)
    await gate.acquire(4)  # 12 > 10: waits for the next minute
    # assert
    assert clock.sleeps == [pytest.approx(40.0)]
    assert gate.used == 4


async def test_the_venues_used_weight_header_counts_other_clients_of_the_ip() -> None:
    # arrange
    clock = FakeClock()
    gate = _gate(clock, budget=100)
    await gate.acquire(1)
    # act
    gate.observe({WEIGHT_HEADER: "98"})
    await gate.acquire(5)
    # assert
    assert len(clock.sleeps) == 1


async def test_a_429_pauses_every_request_for_retry_after_and_a_418_is_a_ban() -> None:
    # arrange
    clock = FakeClock()
    gate = _gate(clock)
    # act
    gate.block(7.0, banned=False)
    await gate.acquire(1)
    gate.block(120.0, banned=True)
    banned = gate.banned
    await gate.acquire(1)
    # assert
    assert clock.sleeps == [pytest.approx(7.0), pytest.approx(120.0)]
    assert banned
    assert not gate.banned


def _client(handler: httpx.MockTransport, clock: FakeClock) -> RestClient:
    return RestClient(httpx.AsyncClient(transport=handler), "https://api.example.test", _gate(clock, budget=6000))


@pytest.mark.parametrize(("status", "banned"), [(429, False), (418, True)])
async def test_rate_limit_answers_raise_and_stop_the_next_request_until_retry_after(status: int, banned: bool) -> None:
    # arrange
    clock = FakeClock()
    answers = iter([httpx.Response(status, headers={"Retry-After": "30"}), httpx.Response(200, content=b"[]")])
    client = _client(httpx.MockTransport(lambda _: next(answers)), clock)
    # act
    with pytest.raises(RateLimited) as info:
        await client.get("/api/v3/klines", {}, 2, "klines")
    body, _ = await client.get("/api/v3/klines", {}, 2, "klines")
    # assert
    assert (info.value.retry_after_s, info.value.banned) == (30.0, banned)
    assert clock.sleeps == [pytest.approx(30.0)]
    assert body == b"[]"


@pytest.mark.parametrize(
    ("status", "error"), [(500, TransientError), (503, TransientError), (400, FatalError), (403, FatalError)]
)
async def test_other_failures_map_to_the_taxonomy(status: int, error: type[Exception]) -> None:
    # arrange
    client = _client(httpx.MockTransport(lambda _: httpx.Response(status)), FakeClock())
    # act / assert
    with pytest.raises(error):
        await client.get("/api/v3/aggTrades", {}, 4, "aggTrades")


async def test_history_pages_come_from_the_endpoint_of_the_collected_trade_stream() -> None:
    # arrange
    seen: list[str] = []
    rows = [
        {
            "id": 7,
            "price": "100.5",
            "qty": "0.25",
            "quoteQty": "25.125",
            "time": 5,
            "isBuyerMaker": True,
            "isBestMatch": True,
        }
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, content=json.dumps(rows).encode(), headers={WEIGHT_HEADER: "25"})

    clock = FakeClock()
    history = HistoryClient(_client(httpx.MockTransport(handler), clock), "trade")
    # act
    trades = await history.trades("BTCUSDT", 7)
    # assert
    assert seen == [f"https://api.example.test{HISTORICAL_TRADES_PATH}?symbol=BTCUSDT&fromId=7&limit=1000"]
    assert [(t.trade_id, t.price, t.qty, t.buyer_is_maker, t.ts_trade) for t in trades] == [
        (7, Decimal("100.5"), Decimal("0.25"), True, 5)
    ]


@given(st.binary(max_size=200))
async def test_history_parsers_survive_random_bytes(body: bytes) -> None:
    # arrange
    transport = httpx.MockTransport(lambda _: httpx.Response(200, content=body))
    clock = FakeClock()
    for kind in ("trade", "aggTrade"):
        history = HistoryClient(_client(transport, clock), kind)
        # act / assert: a page or a TransientError, nothing else
        for call in (history.trades("BTCUSDT", 1), history.klines("BTCUSDT", "1m", 0, 10**13)):
            with contextlib.suppress(TransientError):
                await call


def test_connection_attempts_stay_within_the_window() -> None:
    # arrange
    window = AttemptWindow(max_attempts=3, window_s=300.0)
    # act
    for t in (0.0, 10.0, 20.0):
        assert window.delay(t) == 0.0
        window.record(t)
    # assert
    assert window.delay(30.0) == pytest.approx(270.0)
    assert window.delay(300.0) == 0.0
