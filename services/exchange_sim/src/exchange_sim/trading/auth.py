"""Signed requests: API key, signature and timestamp checks, as Binance does them.

REST payload = the query string exactly as sent (percent-encoded) followed directly by the body,
without the ``signature`` pair (``algo_common.binance.signing.rest_payload`` builds it on the
client side). Checks in order: ``X-MBX-APIKEY`` present (-2014) and known (-2015), ``timestamp``
and ``signature`` present (-1102), ``recvWindow`` valid (-1131), signature (-1022), then the
timestamp window (-1021): accepted iff ``timestamp < serverTime + 1000`` and
``serverTime - timestamp <= recvWindow`` (default 5000, max 60000 ms, up to 3 decimals; a
timestamp above 1e14 is read as microseconds).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qsl

from aiohttp import web

from exchange_sim.trading.accounts import ApiKey, Keyring
from exchange_sim.trading.errors import TradingError, illegal, mandatory

API_KEY_HEADER = "X-MBX-APIKEY"
DEFAULT_RECV_WINDOW = Decimal(5000)
MAX_RECV_WINDOW = Decimal(60000)
MICROSECONDS_ABOVE = 10**14
_RECV_WINDOW = re.compile(r"^[0-9]{1,5}(\.[0-9]{1,3})?$")


def check_timestamp(params: Mapping[str, object], server_ms: int) -> None:
    """Raise -1102/-1100/-1131/-1021 unless ``timestamp`` fits ``recvWindow`` around ``server_ms``."""
    raw_ts = str(params.get("timestamp", ""))
    if not raw_ts:
        raise mandatory("timestamp")
    if not raw_ts.isdigit():
        raise illegal("timestamp", "^[0-9]{1,20}$")
    timestamp = Decimal(int(raw_ts))
    if timestamp > MICROSECONDS_ABOVE:
        timestamp /= 1000
    window = recv_window(params)
    if timestamp >= server_ms + 1000:
        raise TradingError(-1021, "Timestamp for this request was 1000ms ahead of the server's time.")
    if server_ms - timestamp > window:
        raise TradingError(-1021, "Timestamp for this request is outside of the recvWindow.")


def recv_window(params: Mapping[str, object]) -> Decimal:
    raw = params.get("recvWindow")
    if raw is None or raw == "":
        return DEFAULT_RECV_WINDOW
    text = str(raw)
    if not _RECV_WINDOW.match(text):
        raise illegal("recvWindow", r"^[0-9]{1,5}(\.[0-9]{1,3})?$")
    try:
        window = Decimal(text)
    except InvalidOperation as e:  # pragma: no cover - the pattern excludes it
        raise illegal("recvWindow", "number") from e
    if window > MAX_RECV_WINDOW:
        raise TradingError(-1131, "recvWindow must be less than 60000")
    return window


def lookup_key(keyring: Keyring, api_key: str | None) -> ApiKey:
    if not api_key:
        raise TradingError(-2014, "API-key format invalid.")
    key = keyring.key(api_key)
    if key is None:
        raise TradingError(-2015, "Invalid API-key, IP, or permissions for action.")
    return key


def without_signature(raw: str) -> str:
    """``raw`` (``k=v&k=v``) minus its ``signature`` pairs, otherwise byte for byte."""
    return "&".join(part for part in raw.split("&") if part and part.split("=", 1)[0] != "signature")


async def signed_request(request: web.Request, keyring: Keyring, server_ms: int) -> tuple[ApiKey, dict[str, str]]:
    """Authenticate a signed REST request; return its key and its params (query wins over body)."""
    key = lookup_key(keyring, request.headers.get(API_KEY_HEADER))
    raw_query = request.raw_path.partition("?")[2]
    raw_body = (await request.read()).decode("utf-8", errors="replace")
    params = dict(parse_qsl(raw_body, keep_blank_values=True))
    params.update(parse_qsl(raw_query, keep_blank_values=True))
    signature = params.get("signature", "")
    if not params.get("timestamp"):
        raise mandatory("timestamp")
    if not signature:
        raise mandatory("signature")
    recv_window(params)
    if not key.verify(without_signature(raw_query) + without_signature(raw_body), signature):
        raise TradingError(-1022, "Signature for this request is not valid.")
    check_timestamp(params, server_ms)
    return key, params
