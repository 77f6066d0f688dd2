"""Signed requests: API keys, HMAC and Ed25519 signatures, the timestamp window, clock skew."""

from __future__ import annotations

import httpx
import pytest

from tests.binance_doc_keys import DOC_EXAMPLE_API_KEY
from tests.integration.exchange_sim.sim_helpers import StartSim
from tests.integration.exchange_sim.trading_helpers import (
    NOW_MS,
    SignedClient,
    ed25519_key,
    frozen,
    hmac_account,
    trading_control,
)

DOC_QUERY = (
    "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
)
DOC_SIGNATURE = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"


def doc_time() -> float:
    return 1499827319.559


@pytest.mark.parametrize(
    ("signature", "expected_code"),
    [(DOC_SIGNATURE, -1013), (DOC_SIGNATURE.upper(), -1013), (DOC_SIGNATURE[:-1] + "0", -1022)],
)
async def test_documentation_hmac_example(
    start_sim: StartSim, http: httpx.AsyncClient, signature: str, expected_code: int
) -> None:
    """The doc's request passes signature and time checks and reaches the filters (price 0.1 * 1 BTC < 5)."""
    sim = await start_sim(wall_time=doc_time, symbols="LTCBTC")
    response = await http.post(
        f"{sim.rest_url}/api/v3/order?{DOC_QUERY}&signature={signature}", headers={"X-MBX-APIKEY": DOC_EXAMPLE_API_KEY}
    )
    assert response.json()["code"] == expected_code
    if expected_code == -1022:
        assert response.json() == {"code": -1022, "msg": "Signature for this request is not valid."}
    else:
        assert response.json() == {"code": -1013, "msg": "Filter failure: NOTIONAL"}


async def test_documentation_example_split_between_query_and_body(start_sim: StartSim, http: httpx.AsyncClient) -> None:
    sim = await start_sim(wall_time=doc_time, symbols="LTCBTC")
    query, _, body = DOC_QUERY.partition("&quantity=")
    response = await http.post(
        f"{sim.rest_url}/api/v3/order?{query}",
        content=f"quantity={body}&signature=0fd168b8ddb4876a0358a8d14d0c9f3da0e9b20c5d52b2a00fcf7d1c602f9a77",
        headers={"X-MBX-APIKEY": DOC_EXAMPLE_API_KEY, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.json() == {"code": -1013, "msg": "Filter failure: NOTIONAL"}


async def test_ed25519_key_is_accepted_and_checked(start_sim: StartSim, http: httpx.AsyncClient) -> None:
    sim = await start_sim(wall_time=frozen)
    signer, pem = ed25519_key()
    await trading_control(
        http,
        sim,
        "accounts",
        name="ed",
        balances={"USDT": "1000"},
        keys=[{"api_key": signer.api_key, "public_key_pem": pem}],
    )
    client = SignedClient(http, sim, signer)
    account = await client.ok("GET", "/api/v3/account")
    assert {b["asset"]: b["free"] for b in account["balances"]} == {"USDT": "1000.00000000"}
    placed = await client.order(side="BUY", type="MARKET", quantity="0.001")
    assert placed.json()["status"] == "FILLED"
    other, _ = ed25519_key(signer.api_key)  # same key name, wrong private key
    forged = await SignedClient(http, sim, other).request("GET", "/api/v3/account")
    assert (forged.status_code, forged.json()["code"]) == (400, -1022)


async def test_api_key_errors_are_401(start_sim: StartSim, http: httpx.AsyncClient) -> None:
    sim = await start_sim(wall_time=frozen)
    missing = await http.get(f"{sim.rest_url}/api/v3/account?timestamp={NOW_MS}&signature=00")
    assert (missing.status_code, missing.json()) == (401, {"code": -2014, "msg": "API-key format invalid."})
    unknown = await http.get(
        f"{sim.rest_url}/api/v3/account?timestamp={NOW_MS}&signature=00", headers={"X-MBX-APIKEY": "nobody"}
    )
    assert (unknown.status_code, unknown.json()) == (
        401,
        {"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."},
    )
    no_signature = await http.get(
        f"{sim.rest_url}/api/v3/account?timestamp={NOW_MS}", headers={"X-MBX-APIKEY": DOC_EXAMPLE_API_KEY}
    )
    assert no_signature.json() == {
        "code": -1102,
        "msg": "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.",
    }


@pytest.mark.parametrize(
    ("offset_ms", "recv_window", "expected"),
    [
        (0, None, None),
        (999, None, None),
        (1000, None, "Timestamp for this request was 1000ms ahead of the server's time."),
        (-5000, None, None),
        (-5001, None, "Timestamp for this request is outside of the recvWindow."),
        (-5001, "5001.5", None),
        (-59_000, "60000", None),
        (-60_001, "60000", "Timestamp for this request is outside of the recvWindow."),
    ],
)
async def test_timestamp_window(
    start_sim: StartSim, http: httpx.AsyncClient, offset_ms: int, recv_window: str | None, expected: str | None
) -> None:
    sim = await start_sim(wall_time=frozen, trading_accounts=[hmac_account()])
    client = SignedClient(http, sim)
    response = await client.request("GET", "/api/v3/account", recvWindow=recv_window, timestamp=NOW_MS + offset_ms)
    if expected is None:
        assert response.status_code == 200, response.text
    else:
        assert (response.status_code, response.json()) == (400, {"code": -1021, "msg": expected})


async def test_microsecond_timestamp_and_recv_window_limit(start_sim: StartSim, http: httpx.AsyncClient) -> None:
    sim = await start_sim(wall_time=frozen, trading_accounts=[hmac_account()])
    client = SignedClient(http, sim)
    assert (await client.request("GET", "/api/v3/account", timestamp=NOW_MS * 1000 - 300)).status_code == 200
    too_wide = await client.request("GET", "/api/v3/account", recvWindow="60001")
    assert too_wide.json() == {"code": -1131, "msg": "recvWindow must be less than 60000"}


async def test_clock_skew_forces_1021_until_the_client_resyncs(start_sim: StartSim, http: httpx.AsyncClient) -> None:
    sim = await start_sim(wall_time=frozen, trading_accounts=[hmac_account()])
    await trading_control(http, sim, "clock", skew_ms=-7000)
    client = SignedClient(http, sim)
    behind = await client.request("GET", "/api/v3/account")
    assert behind.json()["code"] == -1021
    server_time = (await http.get(f"{sim.rest_url}/api/v3/time")).json()["serverTime"]
    assert server_time == NOW_MS - 7000
    resynced = SignedClient(http, sim, clock_ms=lambda: server_time)
    assert (await resynced.request("GET", "/api/v3/account")).status_code == 200
    info = (await http.get(f"{sim.rest_url}/api/v3/exchangeInfo")).json()
    assert info["serverTime"] == server_time
