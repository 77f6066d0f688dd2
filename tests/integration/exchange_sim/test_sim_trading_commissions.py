"""Commissions as Binance charges them: a BUY in the base asset, a SELL in the quote, or in BNB when chosen.

Each test checks the balances against the fills to the last digit: what the account holds is what
it had, plus what it bought, minus what it sold and paid.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx

from tests.integration.exchange_sim.sim_helpers import StartSim
from tests.integration.exchange_sim.trading_helpers import SignedClient, balances, frozen, hmac_account, trading_state

TAKER = Decimal("0.001")
EIGHT = Decimal("1E-8")
ZERO = Decimal(0)


def _sums(body: dict[str, Any]) -> tuple[Decimal, Decimal, Decimal]:
    """Quantity, quote amount and commission of an order's fills."""
    fills = body["fills"]
    qty = sum((Decimal(f["qty"]) for f in fills), ZERO)
    quote = sum((Decimal(f["price"]) * Decimal(f["qty"]) for f in fills), ZERO)
    return qty, quote, sum((Decimal(f["commission"]) for f in fills), ZERO)


async def test_a_buy_pays_in_the_base_asset_and_a_sell_in_the_quote_asset(
    start_sim: StartSim, http: httpx.AsyncClient
) -> None:
    # arrange
    sim = await start_sim(wall_time=frozen, trading_accounts=[hmac_account(balances={"USDT": "100000"})])
    client = SignedClient(http, sim)
    # act
    bought = await client.ok("POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.01")
    sold = await client.ok("POST", "/api/v3/order", symbol="BTCUSDT", side="SELL", type="MARKET", quantity="0.00999")
    # assert
    assert {f["commissionAsset"] for f in bought["fills"]} == {"BTC"}
    assert {f["commissionAsset"] for f in sold["fills"]} == {"USDT"}
    buy_qty, buy_quote, buy_fee = _sums(bought)
    sell_qty, sell_quote, sell_fee = _sums(sold)
    assert buy_fee == (buy_qty * TAKER).quantize(EIGHT) == Decimal("0.00001")
    assert sell_fee == sum((Decimal(f["price"]) * Decimal(f["qty"]) * TAKER).quantize(EIGHT) for f in sold["fills"])
    held = balances(await trading_state(http, sim))
    assert held["BTC"] == (buy_qty - buy_fee - sell_qty, ZERO) == (ZERO, ZERO)  # the whole purchase was sold
    assert held["USDT"] == (Decimal(100000) - buy_quote + sell_quote - sell_fee, ZERO)
    account = await client.ok("GET", "/api/v3/account", omitZeroBalances="true")
    assert {b["asset"]: Decimal(b["free"]) for b in account["balances"]} == {"USDT": held["USDT"][0]}


async def test_an_account_paying_in_bnb_keeps_the_whole_trade_until_its_bnb_runs_out(
    start_sim: StartSim, http: httpx.AsyncClient
) -> None:
    # arrange: BNB at 600 USDT; enough for one commission of a 0.01 BTC trade (~0.0005 BNB), not two
    config = {
        **hmac_account(balances={"USDT": "100000", "BNB": "0.0007"}),
        "fee_asset": "BNB",
        "fee_asset_price": "600",
    }
    sim = await start_sim(wall_time=frozen, trading_accounts=[config])
    client = SignedClient(http, sim)
    # act
    first = await client.ok("POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.01")
    second = await client.ok("POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.01")
    # assert
    assert {f["commissionAsset"] for f in first["fills"]} == {"BNB"}
    first_qty, first_quote, first_fee = _sums(first)
    assert first_fee == sum(
        ((Decimal(f["price"]) * Decimal(f["qty"]) / 600 * TAKER).quantize(EIGHT) for f in first["fills"]), ZERO
    )
    assert {f["commissionAsset"] for f in second["fills"]} == {"BTC"}  # BNB short: the usual asset
    second_qty, second_quote, second_fee = _sums(second)
    held = balances(await trading_state(http, sim))
    assert held["BNB"] == (Decimal("0.0007") - first_fee, ZERO)
    assert held["BTC"] == (first_qty + second_qty - second_fee, ZERO)
    assert held["USDT"] == (Decimal(100000) - first_quote - second_quote, ZERO)
