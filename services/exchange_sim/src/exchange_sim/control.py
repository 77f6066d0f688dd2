"""WebSocket control messages (SUBSCRIBE, UNSUBSCRIBE, LIST_SUBSCRIPTIONS, GET/SET_PROPERTY).

Pure: a text frame and the connection's session in, the encoded reply out. Replies and error
codes follow Binance's "Live Subscribing/Unsubscribing to streams" section: success
``{"result": null, "id": 1}``; errors ``{"code": 0|1|2|3, "msg": ..., "id": ...}`` (0 unknown
property, 1 bad value type, 2 invalid request, 3 invalid JSON).
"""

from __future__ import annotations

import re
from typing import Protocol

import msgspec

from exchange_sim.encoding import encode
from exchange_sim.schemas import WsError, WsRequestId, WsResult

METHODS = ("SUBSCRIBE", "UNSUBSCRIBE", "LIST_SUBSCRIPTIONS", "SET_PROPERTY", "GET_PROPERTY")
_ID_STRING = re.compile(r"^[a-zA-Z0-9]{1,36}$")
_INT64 = (-(2**63), 2**63 - 1)
_BYTE_POSITION = re.compile(r"\(byte (\d+)\)")


class ControlSession(Protocol):
    """The part of a connection that control messages read and change."""

    combined: bool

    def subscriptions(self) -> list[str]: ...

    def subscribe(self, names: list[str]) -> str | None:
        """Add streams; return an error message instead when the stream limit would be exceeded."""
        ...

    def unsubscribe(self, names: list[str]) -> None: ...


class _Invalid(Exception):
    def __init__(self, code: int, msg: str) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg


def handle_control(raw: str | bytes, session: ControlSession) -> bytes:
    """Apply one control message to ``session``; return the reply frame."""
    try:
        request = msgspec.json.decode(raw)
    except msgspec.DecodeError as e:
        return encode(WsError(code=3, msg=_json_error(str(e), raw)))
    request_id: WsRequestId | msgspec.UnsetType = msgspec.UNSET
    try:
        if not isinstance(request, dict):
            raise _Invalid(2, "Invalid request: expected a JSON object")
        if "method" not in request:
            raise _Invalid(2, "Invalid request: missing field `method`")
        request_id = _request_id(request)
        result = _dispatch(request, session)
    except _Invalid as e:
        return encode(WsError(code=e.code, msg=e.msg, id=request_id))
    assert not isinstance(request_id, msgspec.UnsetType)
    return encode(WsResult(result=result, id=request_id))


def _dispatch(request: dict[str, object], session: ControlSession) -> list[str] | bool | None:
    method, params = request["method"], request.get("params", [])
    if method not in METHODS:
        expected = ", ".join(f"`{m}`" for m in METHODS)
        raise _Invalid(2, f"Invalid request: unknown variant `{method}`, expected one of {expected}")
    if not isinstance(params, list):
        raise _Invalid(2, "Invalid request: params must be an array")
    if method == "LIST_SUBSCRIPTIONS":
        return session.subscriptions()
    if method in ("SUBSCRIBE", "UNSUBSCRIBE"):
        names = [name for name in params if isinstance(name, str)]
        if len(names) != len(params):
            raise _Invalid(2, "Invalid request: stream names must be strings")
        if method == "UNSUBSCRIBE":
            session.unsubscribe(names)
        elif (error := session.subscribe(names)) is not None:
            raise _Invalid(2, f"Invalid request: {error}")
        return None
    return _property(method, params, session)


def _property(method: object, params: list[object], session: ControlSession) -> bool | None:
    expected_count = 2 if method == "SET_PROPERTY" else 1
    if len(params) > expected_count:
        raise _Invalid(2, "Invalid request: too many parameters")
    if not params or not isinstance(params[0], str):
        raise _Invalid(2, "Invalid request: property name must be a string")
    if params[0] != "combined":
        raise _Invalid(0, "Unknown property")
    if method == "GET_PROPERTY":
        return session.combined
    if len(params) < 2 or not isinstance(params[1], bool):
        raise _Invalid(1, "Invalid value type: expected Boolean")
    session.combined = params[1]
    return None


def _request_id(request: dict[str, object]) -> WsRequestId:
    value = request.get("id", msgspec.UNSET)
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and _INT64[0] <= value <= _INT64[1]:
        return value
    if isinstance(value, str) and _ID_STRING.match(value):
        return value
    raise _Invalid(2, "Invalid request: request ID must be an unsigned integer")


def _json_error(reason: str, raw: str | bytes) -> str:
    data = raw.encode() if isinstance(raw, str) else raw
    found = _BYTE_POSITION.search(reason)
    position = int(found.group(1)) if found else len(data)
    before = data[:position]
    line = before.count(b"\n") + 1
    column = position - (before.rfind(b"\n") + 1) + 1
    return f"Invalid JSON: expected value at line {line} column {column}"
