"""Rate-limit headers obeyed before sending; the server clock offset measured from /api/v3/time."""

from __future__ import annotations

import msgspec
import pytest

from algo_common.errors import RateLimited
from tests.unit.trader.binance_payloads import EXCHANGE_INFO
from trader.venues.binance.clock import ServerClock
from trader.venues.binance.limits import RateGate, window_ms
from trader.venues.binance.metrics import binance_metrics
from trader.venues.binance.schemas import BinanceExchangeInfo, BinanceRateLimit


class _Monotonic:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _gate(max_wait_s: float = 0.0) -> tuple[RateGate, _Monotonic]:
    clock = _Monotonic()
    return RateGate(binance_metrics(), max_wait_s, monotonic=clock), clock


def test_usage_headers_are_recorded() -> None:
    # arrange
    gate, _ = _gate()
    # act
    gate.observe(200, {"X-MBX-USED-WEIGHT-1M": "42", "X-MBX-ORDER-COUNT-10S": "3", "x-mbx-order-count-1d": "9"})
    # assert
    assert gate.used_weight == {"1m": 42}
    assert gate.order_counts == {"10s": 3, "1d": 9}


async def test_a_429_closes_the_gate_for_retry_after() -> None:
    # arrange
    gate, clock = _gate()
    # act
    with pytest.raises(RateLimited) as raised:
        gate.observe(429, {"Retry-After": "7"})
    # assert
    assert (raised.value.retry_after_s, raised.value.banned) == (7.0, False)
    with pytest.raises(RateLimited):
        await gate.wait()
    clock.now += 7
    await gate.wait()  # open again


async def test_a_418_ban_stops_everything_and_is_never_waited_out_in_line() -> None:
    # arrange
    gate, clock = _gate(max_wait_s=3600)
    gate.observe(200, {})
    # act
    with pytest.raises(RateLimited):
        gate.observe(418, {"Retry-After": "120"})
    # assert
    with pytest.raises(RateLimited) as raised:
        await gate.wait()
    assert raised.value.banned
    clock.now += 120
    await gate.wait()


def test_a_missing_retry_after_waits_a_safe_default() -> None:
    # arrange
    gate, _ = _gate()
    # act
    with pytest.raises(RateLimited) as raised:
        gate.observe(429, {})
    # assert
    assert raised.value.retry_after_s == 60.0


async def test_the_server_offset_is_measured_at_the_round_trip_midpoint() -> None:
    # arrange
    local = iter([1_000, 1_100, 1_200])

    async def server_time() -> int:
        return 5_050

    clock = ServerClock(server_time, refresh_s=60, local_ms=lambda: next(local))
    # act
    offset = await clock.sync()
    # assert
    assert offset == 5_050 - 1_050
    assert clock.now_ms() == 1_200 + offset


async def test_the_offset_is_refreshed_only_when_stale() -> None:
    # arrange
    calls: list[int] = []
    now = [0]

    async def server_time() -> int:
        calls.append(now[0])
        return now[0] + 10

    clock = ServerClock(server_time, refresh_s=1, local_ms=lambda: now[0])
    # act
    await clock.ensure_fresh()
    await clock.ensure_fresh()
    now[0] = 1_000
    await clock.ensure_fresh()
    # assert
    assert calls == [0, 1_000]


LIMITS = [
    BinanceRateLimit("REQUEST_WEIGHT", "MINUTE", 1, 6000),
    BinanceRateLimit("ORDERS", "SECOND", 10, 100),
    BinanceRateLimit("ORDERS", "DAY", 1, 200_000),
    BinanceRateLimit("RAW_REQUESTS", "MINUTE", 5, 300_000),
]


def _limited_gate(wall: list[int], max_wait_s: float = 60.0) -> RateGate:
    gate = RateGate(binance_metrics(), max_wait_s, monotonic=lambda: 0.0, wall_ms=lambda: wall[0])
    gate.set_limits(LIMITS)
    return gate


@pytest.mark.parametrize(("interval", "ms"), [("10s", 10_000), ("1m", 60_000), ("1h", 3_600_000), ("1d", 86_400_000)])
def test_header_intervals_are_windows(interval: str, ms: int) -> None:
    assert window_ms(interval) == ms


def test_exchange_info_rate_limits_become_the_gates_limits() -> None:
    # arrange
    info = msgspec.json.decode(
        EXCHANGE_INFO.replace(b'"rateLimits": []', b'"rateLimits": ' + msgspec.json.encode(LIMITS)),
        type=BinanceExchangeInfo,
    )
    gate = RateGate(binance_metrics(), 0)
    # act
    gate.set_limits(info.rateLimits)
    # assert
    assert gate.weight_limits == {"1m": 6000}
    assert gate.order_limits == {"10s": 100, "1d": 200_000}


def test_weight_near_the_limit_pauses_every_request_until_the_minute_rolls_over() -> None:
    # arrange
    wall = [1_699_999_990_000]  # 10 s into a minute
    gate = _limited_gate(wall)
    # act
    gate.observe(200, {"X-MBX-USED-WEIGHT-1M": "5700"})
    # assert
    assert gate.quota_pause_s(placing_order=False) == 50.0
    wall[0] += 50_000  # the next minute: the old usage no longer counts
    assert gate.quota_pause_s(placing_order=False) == 0.0


def test_the_order_count_pauses_only_orders() -> None:
    # arrange
    wall = [1_700_000_004_000]  # 4 s into a 10 s window
    gate = _limited_gate(wall)
    # act
    gate.observe(200, {"X-MBX-USED-WEIGHT-1M": "10", "X-MBX-ORDER-COUNT-10S": "99", "X-MBX-ORDER-COUNT-1D": "99"})
    # assert
    assert gate.quota_pause_s(placing_order=True) == 6.0
    assert gate.quota_pause_s(placing_order=False) == 0.0


async def test_a_pause_longer_than_allowed_makes_the_trader_wait_unready() -> None:
    # arrange
    wall = [1_700_000_000_000]
    gate = _limited_gate(wall, max_wait_s=1.0)
    gate.observe(200, {"X-MBX-ORDER-COUNT-1D": "199000"})
    # act / assert
    with pytest.raises(RateLimited):
        await gate.wait(placing_order=True)
    await gate.wait(placing_order=False)
