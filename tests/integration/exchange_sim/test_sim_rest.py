"""REST market data: Binance shapes, errors, weights and the 429 past the weight limit."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from algo_common.binance import parse
from tests.integration.exchange_sim.sim_helpers import StartSim, control, sim_state

FROZEN_NOW = 1_800_000_030.0  # 30 s into a wall-clock minute, so no test races a window boundary


def frozen() -> float:
    return FROZEN_NOW


async def get(http: httpx.AsyncClient, base: str, path: str, **params: Any) -> httpx.Response:
    return await http.get(f"{base}{path}", params=params)


async def test_ping_time_and_weight_header(start_sim: StartSim, http: httpx.AsyncClient) -> None:
    sim = await start_sim(wall_time=frozen)
    ping = await get(http, sim.rest_url, "/api/v3/ping")
    assert (ping.status_code, ping.json(), ping.headers["X-MBX-USED-WEIGHT-1M"]) == (200, {}, "1")
    await control(http, sim, "step", n=3)
    server_time = await get(http, sim.rest_url, "/api/v3/time")
    # serverTime is the trading clock (wall clock + skew), not the simulated market clock
    assert server_time.json() == {"serverTime": int(FROZEN_NOW * 1000)}
    assert server_time.headers["X-MBX-USED-WEIGHT-1M"] == "2"


async def test_exchange_info_shape_and_filters(start_sim: StartSim, http: httpx.AsyncClient) -> None:
    sim = await start_sim(symbols="BTCUSDT,ETHBTC", wall_time=frozen)
    info = (await get(http, sim.rest_url, "/api/v3/exchangeInfo")).json()
    assert info["timezone"] == "UTC"
    assert {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000} in info[
        "rateLimits"
    ]
    assert [s["symbol"] for s in info["symbols"]] == ["BTCUSDT", "ETHBTC"]
    btc = info["symbols"][0]
    assert (btc["status"], btc["baseAsset"], btc["quoteAsset"], btc["permissions"]) == ("TRADING", "BTC", "USDT", [])
    assert btc["permissionSets"] == [["SPOT"]]
    filters = {f["filterType"]: f for f in btc["filters"]}
    assert set(filters) == {"PRICE_FILTER", "LOT_SIZE", "MARKET_LOT_SIZE", "NOTIONAL"}
    assert filters["PRICE_FILTER"]["tickSize"] == "0.01000000"
    assert filters["LOT_SIZE"]["stepSize"] == "0.00001000"
    assert filters["NOTIONAL"]["minNotional"] == "5.00000000"
    one = (await get(http, sim.rest_url, "/api/v3/exchangeInfo", symbol="ETHBTC")).json()
    assert [s["symbol"] for s in one["symbols"]] == ["ETHBTC"]
    some = await get(http, sim.rest_url, "/api/v3/exchangeInfo", symbols=json.dumps(["ETHBTC", "BTCUSDT"]))
    assert [s["symbol"] for s in some.json()["symbols"]] == ["ETHBTC", "BTCUSDT"]
    assert some.headers["X-MBX-USED-WEIGHT-1M"] == "60"


async def test_depth_is_consistent_with_the_diff_stream_and_clamps_its_limit(
    start_sim: StartSim, http: httpx.AsyncClient
) -> None:
    sim = await start_sim(levels_per_side=150, wall_time=frozen)
    await control(http, sim, "step", n=2)
    default = await get(http, sim.rest_url, "/api/v3/depth", symbol="BTCUSDT")
    body = default.json()
    assert (len(body["bids"]), len(body["asks"]), default.headers["X-MBX-USED-WEIGHT-1M"]) == (100, 100, "5")
    assert body["lastUpdateId"] == (await sim_state(http, sim))["symbols"][0]["last_update_id"]
    snapshot = parse.parse_depth_snapshot("BTCUSDT", default.content)
    assert snapshot.bids[0][0] < snapshot.asks[0][0]
    assert [p for p, _ in snapshot.bids] == sorted((p for p, _ in snapshot.bids), reverse=True)
    huge = await get(http, sim.rest_url, "/api/v3/depth", symbol="BTCUSDT", limit=6000)
    assert len(huge.json()["bids"]) >= 140
    assert huge.headers["X-MBX-USED-WEIGHT-1M"] == str(5 + 250)


@pytest.mark.parametrize(("limit", "weight"), [(5, 5), (100, 5), (101, 25), (500, 25), (1000, 50), (1001, 250)])
async def test_depth_weight_by_limit(start_sim: StartSim, http: httpx.AsyncClient, limit: int, weight: int) -> None:
    sim = await start_sim(wall_time=frozen)
    response = await get(http, sim.rest_url, "/api/v3/depth", symbol="BTCUSDT", limit=limit)
    assert response.headers["X-MBX-USED-WEIGHT-1M"] == str(weight)


async def test_klines_rows_closed_and_forming_oldest_first(start_sim: StartSim, http: httpx.AsyncClient) -> None:
    # arrange: 3 closed 1m bars and a forming one
    sim = await start_sim(steps_per_bar=2, wall_time=frozen)
    await control(http, sim, "step", n=7)
    # act
    response = await get(http, sim.rest_url, "/api/v3/klines", symbol="BTCUSDT", interval="1m")
    rows = response.json()
    # assert
    assert response.headers["X-MBX-USED-WEIGHT-1M"] == "2"
    assert len(rows) == 4
    assert all(len(row) == 12 and row[11] == "0" for row in rows)
    assert [row[0] for row in rows] == sorted(row[0] for row in rows)
    assert all(row[6] == row[0] + 59_999 for row in rows)
    assert all(rows[i + 1][1] == rows[i][4] for i in range(3))  # open = previous close
    now = (await sim_state(http, sim))["time_ms"]
    klines = parse.parse_kline_rows("BTCUSDT", "1m", response.content, now_ms=now)
    assert [k.closed for k in klines] == [True, True, True, False]
    start = rows[1][0]
    limited = (
        await get(http, sim.rest_url, "/api/v3/klines", symbol="BTCUSDT", interval="1m", startTime=start, limit=2)
    ).json()
    assert [row[0] for row in limited] == [rows[1][0], rows[2][0]]
    until = (await get(http, sim.rest_url, "/api/v3/klines", symbol="BTCUSDT", interval="1m", endTime=start)).json()
    assert [row[0] for row in until] == [rows[0][0], rows[1][0]]


async def test_klines_history_from_csv(start_sim: StartSim, http: httpx.AsyncClient, tmp_path: Path) -> None:
    csv = tmp_path / "btcusdt-1h.csv"
    csv.write_text(
        "open_time_ms,open,high,low,close,volume\n"
        "1623272400000,36000.00000000,36100.00000000,35900.00000000,36050.00000000,100\n"
        "1623276000000,36050.00000000,36500.00000000,36000.00000000,36400.50000000,120\n"
    )
    sim = await start_sim(kline_interval="1h", history_csv=str(csv), wall_time=frozen)
    rows = (await get(http, sim.rest_url, "/api/v3/klines", symbol="BTCUSDT", interval="1h")).json()
    assert [(row[0], row[4]) for row in rows] == [(1623272400000, "36050.00000000"), (1623276000000, "36400.50000000")]
    await control(http, sim, "step")
    rows = (await get(http, sim.rest_url, "/api/v3/klines", symbol="BTCUSDT", interval="1h")).json()
    assert rows[-1][0] == 1623279600000
    assert rows[-1][1] == "36400.50000000"


async def test_agg_trades_rows(start_sim: StartSim, http: httpx.AsyncClient) -> None:
    sim = await start_sim(wall_time=frozen)
    await control(http, sim, "step", n=5)
    response = await get(http, sim.rest_url, "/api/v3/aggTrades", symbol="BTCUSDT", fromId=2, limit=3)
    rows = response.json()
    assert response.headers["X-MBX-USED-WEIGHT-1M"] == "4"
    assert [row["a"] for row in rows] == [2, 3, 4]
    assert set(rows[0]) == {"a", "p", "q", "f", "l", "T", "m", "M"}
    trades = parse.parse_agg_trade_rows("BTCUSDT", response.content, now_ms=0)
    assert [t.trade_id for t in trades] == [2, 3, 4]
    last = (await sim_state(http, sim))["symbols"][0]["last_trade_id"]
    latest = (await get(http, sim.rest_url, "/api/v3/aggTrades", symbol="BTCUSDT", limit=1)).json()
    assert latest[0]["a"] == last


@pytest.mark.parametrize(
    ("path", "params", "code", "msg"),
    [
        ("/api/v3/depth", {}, -1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."),
        ("/api/v3/depth", {"symbol": "NOPEUSDT"}, -1121, "Invalid symbol."),
        ("/api/v3/depth", {"symbol": "btcusdt"}, -1121, "Invalid symbol."),
        (
            "/api/v3/depth",
            {"symbol": "BTCUSDT", "limit": "ten"},
            -1100,
            "Illegal characters found in parameter 'limit'",
        ),
        ("/api/v3/klines", {"symbol": "BTCUSDT"}, -1102, "Mandatory parameter 'interval'"),
        ("/api/v3/klines", {"symbol": "BTCUSDT", "interval": "1x"}, -1120, "Invalid interval."),
        ("/api/v3/klines", {"interval": "1m"}, -1102, "Mandatory parameter 'symbol'"),
        ("/api/v3/aggTrades", {"symbol": "NOPE"}, -1121, "Invalid symbol."),
        ("/api/v3/exchangeInfo", {"symbol": "NOPE"}, -1121, "Invalid symbol."),
        ("/api/v3/exchangeInfo", {"symbols": '["BTCUSDT","NOPE"]'}, -1121, "Invalid symbol."),
        ("/api/v3/exchangeInfo", {"symbols": "BTCUSDT"}, -1100, "Illegal characters found in parameter 'symbols'"),
        ("/api/v3/exchangeInfo", {"symbol": "BTCUSDT", "symbols": '["BTCUSDT"]'}, -1128, "Combination of optional"),
    ],
)
async def test_errors_use_binance_codes_with_http_400(
    start_sim: StartSim, http: httpx.AsyncClient, path: str, params: dict[str, str], code: int, msg: str
) -> None:
    sim = await start_sim(wall_time=frozen)
    response = await get(http, sim.rest_url, path, **params)
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert response.json()["msg"].startswith(msg)
    assert set(response.json()) == {"code", "msg"}
    assert "X-MBX-USED-WEIGHT-1M" in response.headers


async def test_weight_accumulates_per_minute_and_429_past_the_limit(
    start_sim: StartSim, http: httpx.AsyncClient
) -> None:
    # arrange
    now = [FROZEN_NOW]
    sim = await start_sim(weight_limit=30, wall_time=lambda: now[0])
    # act / assert: 2 + 4 + 20 = 26, then +5 = 31 > 30
    await get(http, sim.rest_url, "/api/v3/klines", symbol="BTCUSDT", interval="1m")
    await get(http, sim.rest_url, "/api/v3/aggTrades", symbol="BTCUSDT")
    info = await get(http, sim.rest_url, "/api/v3/exchangeInfo")
    assert info.headers["X-MBX-USED-WEIGHT-1M"] == "26"
    assert {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 30} in info.json()[
        "rateLimits"
    ]
    limited = await get(http, sim.rest_url, "/api/v3/depth", symbol="BTCUSDT")
    assert limited.status_code == 429
    assert limited.json()["code"] == -1003
    assert limited.json()["msg"].startswith(
        "Too much request weight used; current limit is 30 request weight per 1 MINUTE."
    )
    assert limited.headers["Retry-After"] == "30"
    assert limited.headers["X-MBX-USED-WEIGHT-1M"] == "31"
    # the next minute starts afresh
    now[0] += 30
    again = await get(http, sim.rest_url, "/api/v3/ping")
    assert (again.status_code, again.headers["X-MBX-USED-WEIGHT-1M"]) == (200, "1")


async def test_control_api_is_not_rate_limited_nor_weighted(start_sim: StartSim, http: httpx.AsyncClient) -> None:
    sim = await start_sim(weight_limit=1, wall_time=frozen)
    for _ in range(3):
        response = await http.get(f"{sim.control_url}/state")
        assert response.status_code == 200
        assert "X-MBX-USED-WEIGHT-1M" not in response.headers


async def test_historical_trades_are_the_simulated_trades_by_id(start_sim: StartSim, http: httpx.AsyncClient) -> None:
    # arrange
    sim = await start_sim(wall_time=frozen)
    await control(http, sim, "step", n=4)
    # act
    response = await get(http, sim.rest_url, "/api/v3/historicalTrades", symbol="BTCUSDT", fromId=2, limit=3)
    # assert
    assert response.status_code == 200
    assert response.headers["X-MBX-USED-WEIGHT-1M"] == "25"
    rows = response.json()
    assert [row["id"] for row in rows] == [2, 3, 4]
    assert set(rows[0]) == {"id", "price", "qty", "quoteQty", "time", "isBuyerMaker", "isBestMatch"}
    assert Decimal(rows[0]["quoteQty"]) == Decimal(rows[0]["price"]) * Decimal(rows[0]["qty"])


async def test_rest_fail_answers_market_data_requests_with_429_or_418_and_retry_after(
    start_sim: StartSim, http: httpx.AsyncClient
) -> None:
    # arrange
    sim = await start_sim(wall_time=frozen)
    await control(http, sim, "rest-fail", status=429, retry_after_s=3)
    await control(http, sim, "rest-fail", status=418, retry_after_s=7)
    # act
    answers = [await get(http, sim.rest_url, "/api/v3/depth", symbol="BTCUSDT") for _ in range(3)]
    # assert
    assert [(a.status_code, a.headers.get("Retry-After")) for a in answers] == [(429, "3"), (418, "7"), (200, None)]
    assert answers[0].json()["code"] == -1003
    refused = await http.post(f"{sim.control_url}/rest-fail", json={"status": 500})
    assert refused.status_code == 400
