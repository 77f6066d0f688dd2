"""Parameters of the trading endpoints, validated with Binance's error codes and messages."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal

from exchange_sim.trading.engine import NewOrder
from exchange_sim.trading.errors import TradingError, illegal, mandatory, not_required

DECIMAL_PATTERN = r"^([0-9]{1,20})(\.[0-9]{1,20})?$"
CLIENT_ID_PATTERN = r"^[a-zA-Z0-9-_]{1,36}$"
_DECIMAL = re.compile(DECIMAL_PATTERN)
_CLIENT_ID = re.compile(CLIENT_ID_PATTERN)
SIDES = ("BUY", "SELL")
SIMULATED_TYPES = ("LIMIT", "MARKET", "LIMIT_MAKER")
OTHER_TYPES = ("STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT")
TIME_IN_FORCE = ("GTC", "IOC", "FOK")
RESPONSE_TYPES = ("ACK", "RESULT", "FULL")
CANCEL_RESTRICTIONS = ("ONLY_NEW", "ONLY_PARTIALLY_FILLED")

Params = Mapping[str, str]


def text(params: Params, name: str) -> str:
    value = params.get(name, "")
    if not value:
        raise mandatory(name)
    return value


def optional_text(params: Params, name: str) -> str | None:
    return params.get(name) or None


def decimal(params: Params, name: str) -> Decimal | None:
    """A price or quantity: digits with an optional fraction, at most 8 significant decimals."""
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    if not _DECIMAL.match(raw):
        raise illegal(name, DECIMAL_PATTERN)
    value = Decimal(raw)
    if value != value.quantize(Decimal("1E-8")):
        raise TradingError(-1111, f"Parameter '{name}' has too much precision.")
    return value


def integer(params: Params, name: str) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or len(raw) > 20:
        raise illegal(name, "^[0-9]{1,20}$")
    return int(raw)


def client_id(params: Params, name: str) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    if not _CLIENT_ID.match(value):
        raise illegal(name, CLIENT_ID_PATTERN)
    return value


def new_order(params: Params) -> tuple[NewOrder, str]:
    """The order and its ``newOrderRespType`` (default FULL for MARKET and LIMIT, else ACK)."""
    symbol = text(params, "symbol")
    side = text(params, "side")
    if side not in SIDES:
        raise TradingError(-1117, "Invalid side.")
    order_type = text(params, "type")
    if order_type in OTHER_TYPES:
        raise TradingError(-1014, "Unsupported order combination.")
    if order_type not in SIMULATED_TYPES:
        raise TradingError(-1116, "Invalid orderType.")
    qty, quote_qty, price = decimal(params, "quantity"), decimal(params, "quoteOrderQty"), decimal(params, "price")
    tif = params.get("timeInForce") or None
    if order_type == "MARKET":
        _check_market(qty, quote_qty, price, tif)
    else:
        _check_limit(order_type, qty, quote_qty, price, tif)
    resp_type = params.get("newOrderRespType") or ("ACK" if order_type == "LIMIT_MAKER" else "FULL")
    if resp_type not in RESPONSE_TYPES:
        raise illegal("newOrderRespType", "ACK|RESULT|FULL")
    order = NewOrder(
        symbol=symbol,
        side=side,
        type=order_type,
        time_in_force=tif or "GTC",
        qty=qty,
        quote_qty=quote_qty,
        price=price,
        client_order_id=client_id(params, "newClientOrderId"),
    )
    return order, resp_type


def _check_limit(
    order_type: str, qty: Decimal | None, quote_qty: Decimal | None, price: Decimal | None, tif: str | None
) -> None:
    if order_type == "LIMIT" and tif is None:
        raise mandatory("timeInForce")
    if order_type == "LIMIT" and tif not in TIME_IN_FORCE:
        raise TradingError(-1115, "Invalid timeInForce.")
    if order_type == "LIMIT_MAKER" and tif is not None:
        raise not_required("timeInForce")
    for name, value in (("quantity", qty), ("price", price)):
        if value is None:
            raise mandatory(name)
    if quote_qty is not None:
        raise not_required("quoteOrderQty")


def _check_market(qty: Decimal | None, quote_qty: Decimal | None, price: Decimal | None, tif: str | None) -> None:
    if qty is None and quote_qty is None:
        raise TradingError(-1102, "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!")
    extra = {"quoteOrderQty": qty is not None and quote_qty is not None, "price": price is not None}
    extra["timeInForce"] = tif is not None
    for name, present in extra.items():
        if present:
            raise not_required(name)


def cancel_restriction(params: Params) -> str | None:
    value = params.get("cancelRestrictions") or None
    if value is not None and value not in CANCEL_RESTRICTIONS:
        raise TradingError(-1145, "cancelRestrictions has to be either ONLY_NEW or ONLY_PARTIALLY_FILLED.")
    return value


def limit(params: Params, default: int, maximum: int) -> int:
    value = integer(params, "limit")
    return default if value is None else max(1, min(value, maximum))
