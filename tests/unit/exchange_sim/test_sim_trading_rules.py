"""Pure request rules of the trading side: signatures, timestamps, params, limits, bans."""

from __future__ import annotations

from decimal import Decimal

import pytest

from algo_common.binance.signing import ws_api_payload
from exchange_sim.trading.accounts import Keyring
from exchange_sim.trading.auth import check_timestamp, without_signature
from exchange_sim.trading.config import ApiKeyConfig
from exchange_sim.trading.errors import TradingError
from exchange_sim.trading.limits import BanTracker, OrderCounter
from exchange_sim.trading.params import new_order
from tests.binance_doc_keys import DOC_EXAMPLE_API_KEY, doc_example_account

DOC_PAYLOAD = (
    "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
)
DOC_SIGNATURE = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"


def test_documentation_account_verifies_the_documentation_example() -> None:
    keyring = Keyring()
    keyring.configure(doc_example_account(), 0)
    key = keyring.key(DOC_EXAMPLE_API_KEY)
    assert key is not None
    assert key.kind == "HMAC"
    assert key.verify(DOC_PAYLOAD, DOC_SIGNATURE)
    assert key.verify(DOC_PAYLOAD, DOC_SIGNATURE.upper())
    assert not key.verify(DOC_PAYLOAD.replace("price=0.1", "price=0.2"), DOC_SIGNATURE)


def test_ws_api_documentation_example() -> None:
    params = {
        "symbol": "BTCUSDT", "side": "SELL", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.01000000",
        "price": "52000.00", "recvWindow": 100, "timestamp": 1645423376532,
        "apiKey": "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A",
    }  # fmt: skip
    keyring = Keyring()
    keyring.configure(doc_example_account(), 0)
    key = keyring.key(DOC_EXAMPLE_API_KEY)
    assert key is not None
    assert key.verify(ws_api_payload(params), "aa1b5712c094bc4e57c05a1a5c1fd8d88dcd628338ea863fec7b88e59fe2db24")


def test_without_signature_keeps_everything_else_byte_for_byte() -> None:
    assert without_signature("a=%E2%82%AC&signature=ab%2Bc&b=1") == "a=%E2%82%AC&b=1"
    assert without_signature("signature=x") == ""
    assert without_signature("") == ""


def test_key_config_needs_exactly_one_secret_kind() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        ApiKeyConfig(api_key="k")


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({}, -1102),
        ({"timestamp": "abc"}, -1100),
        ({"timestamp": "1000000"}, None),
        ({"timestamp": "1000999"}, None),
        ({"timestamp": "1001000"}, -1021),
        ({"timestamp": "995000"}, None),
        ({"timestamp": "994999"}, -1021),
        ({"timestamp": "994999", "recvWindow": "5001"}, None),
        ({"timestamp": "994999", "recvWindow": "5000.999"}, -1021),
        ({"timestamp": "994999", "recvWindow": "5000.0001"}, -1100),
        ({"timestamp": "1000000", "recvWindow": "60000.001"}, -1131),
    ],
)
def test_timestamp_rules(params: dict[str, str], code: int | None) -> None:
    if code is None:
        check_timestamp(params, 1_000_000)
        return
    with pytest.raises(TradingError) as error:
        check_timestamp(params, 1_000_000)
    assert error.value.code == code


BASE = {"symbol": "BTCUSDT", "side": "BUY"}


@pytest.mark.parametrize(
    ("params", "code", "msg"),
    [
        (
            {"side": "BUY", "type": "MARKET"},
            -1102,
            "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.",
        ),
        ({**BASE, "side": "HOLD", "type": "MARKET"}, -1117, "Invalid side."),
        ({**BASE, "type": "ICEBERG"}, -1116, "Invalid orderType."),
        ({**BASE, "type": "STOP_LOSS"}, -1014, "Unsupported order combination."),
        ({**BASE, "type": "LIMIT", "quantity": "1", "price": "1"}, -1102, None),
        ({**BASE, "type": "LIMIT", "timeInForce": "GTD", "quantity": "1", "price": "1"}, -1115, "Invalid timeInForce."),
        ({**BASE, "type": "LIMIT", "timeInForce": "GTC", "price": "1"}, -1102, None),
        (
            {**BASE, "type": "MARKET"},
            -1102,
            "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!",
        ),
        ({**BASE, "type": "MARKET", "quantity": "1", "price": "1"}, -1106, "Parameter 'price' sent when not required."),
        ({**BASE, "type": "MARKET", "quantity": "1", "timeInForce": "GTC"}, -1106, None),
        ({**BASE, "type": "MARKET", "quantity": "1.000000001"}, -1111, "Parameter 'quantity' has too much precision."),
        ({**BASE, "type": "MARKET", "quantity": "1e3"}, -1100, None),
        ({**BASE, "type": "MARKET", "quantity": "-1"}, -1100, None),
        ({**BASE, "type": "MARKET", "quantity": "1", "newClientOrderId": "bad id!"}, -1100, None),
        ({**BASE, "type": "MARKET", "quantity": "1", "newOrderRespType": "ALL"}, -1100, None),
    ],
)
def test_new_order_param_errors(params: dict[str, str], code: int, msg: str | None) -> None:
    with pytest.raises(TradingError) as error:
        new_order(params)
    assert error.value.code == code
    if msg is not None:
        assert error.value.msg == msg


def test_new_order_defaults() -> None:
    order, resp_type = new_order({**BASE, "type": "MARKET", "quantity": "0.10000000"})
    assert (order.time_in_force, order.qty, order.price, resp_type) == ("GTC", Decimal("0.1"), None, "FULL")
    _, maker_resp = new_order({**BASE, "type": "LIMIT_MAKER", "quantity": "1", "price": "1"})
    assert maker_resp == "ACK"


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_order_counter_windows() -> None:
    clock = Clock(1_000_000.0)
    counter = OrderCounter(per_10s=2, per_day=3, wall_time=clock)
    assert counter.add("a") == {"10S": 1, "1D": 1}
    assert counter.add("a") == {"10S": 2, "1D": 2}
    hit = counter.hit("a")
    assert hit is not None
    assert (hit.interval, hit.limit, hit.retry_after_s) == ("10 SECOND", 2, 10)
    assert counter.hit("b") is None
    clock.now += 10
    assert counter.counts("a") == {"10S": 0, "1D": 2}
    counter.add("a")
    day = counter.hit("a")
    assert day is not None
    assert day.interval == "1 DAY"


def test_ban_escalates_and_is_capped() -> None:
    clock = Clock(1000.0)
    bans = BanTracker(ban_after=1, ban_s=100_000, wall_time=clock)
    bans.on_request("ip")  # never limited: nothing happens
    assert bans.banned_for("ip") is None
    for expected in (100_000, 200_000, 259_200):
        bans.on_limited("ip", 5)
        bans.on_request("ip")
        assert bans.banned_for("ip") is None  # one request after a 429 is tolerated
        bans.on_request("ip")
        assert bans.banned_for("ip") == expected
        clock.now += expected
        assert bans.banned_for("ip") is None
