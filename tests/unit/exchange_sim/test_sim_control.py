"""WebSocket control messages: Binance's replies and error codes."""

from __future__ import annotations

import json

import pytest

from exchange_sim.control import handle_control


class Session:
    """A connection's control-message state, without a socket."""

    def __init__(self, combined: bool = False, max_streams: int = 1024) -> None:
        self.combined = combined
        self.max_streams = max_streams
        self.subs: list[str] = []

    def subscriptions(self) -> list[str]:
        return list(self.subs)

    def subscribe(self, names: list[str]) -> str | None:
        new = [n for n in names if n not in self.subs]
        if len(self.subs) + len(new) > self.max_streams:
            return f"too many streams, at most {self.max_streams} per connection"
        self.subs.extend(new)
        return None

    def unsubscribe(self, names: list[str]) -> None:
        self.subs = [n for n in self.subs if n not in names]


def reply(message: object, session: Session) -> dict[str, object]:
    raw = message if isinstance(message, str) else json.dumps(message)
    return json.loads(handle_control(raw, session))  # type: ignore[no-any-return]


def test_subscribe_list_and_unsubscribe() -> None:
    session = Session()
    assert reply({"method": "SUBSCRIBE", "params": ["btcusdt@aggTrade", "btcusdt@depth"], "id": 1}, session) == {
        "result": None,
        "id": 1,
    }
    assert reply({"method": "LIST_SUBSCRIPTIONS", "id": 3}, session) == {
        "result": ["btcusdt@aggTrade", "btcusdt@depth"],
        "id": 3,
    }
    assert reply({"method": "UNSUBSCRIBE", "params": ["btcusdt@depth"], "id": 312}, session) == {
        "result": None,
        "id": 312,
    }
    assert session.subs == ["btcusdt@aggTrade"]


def test_get_and_set_combined_property() -> None:
    session = Session(combined=False)
    assert reply({"method": "GET_PROPERTY", "params": ["combined"], "id": 2}, session) == {"result": False, "id": 2}
    assert reply({"method": "SET_PROPERTY", "params": ["combined", True], "id": 5}, session) == {
        "result": None,
        "id": 5,
    }
    assert session.combined is True


@pytest.mark.parametrize(
    ("message", "code", "msg"),
    [
        ({"method": "GET_PROPERTY", "params": ["colour"], "id": 1}, 0, "Unknown property"),
        ({"method": "SET_PROPERTY", "params": ["combined", "yes"], "id": 1}, 1, "Invalid value type: expected Boolean"),
        (
            {"method": "SET_PROPERTY", "params": [5, True], "id": 1},
            2,
            "Invalid request: property name must be a string",
        ),
        ({"method": "GET_PROPERTY", "params": ["combined", 1], "id": 1}, 2, "Invalid request: too many parameters"),
        ({"method": "SUBSCRIBE", "params": ["a@trade"], "id": 1.5}, 2, "Invalid request: request ID must be"),
        ({"method": "SUBSCRIBE", "params": ["a@trade"], "id": "not-alnum!"}, 2, "Invalid request: request ID must be"),
        ({"method": "SUBSCRIBE", "params": ["a@trade"]}, 2, "Invalid request: request ID must be"),
        ({"method": "SUBSCRIBE", "params": [1], "id": 1}, 2, "Invalid request: stream names must be strings"),
        ({"method": "SUBSCRIBE", "params": "a@trade", "id": 1}, 2, "Invalid request: params must be an array"),
        ({"method": "subscribe", "params": [], "id": 1}, 2, "Invalid request: unknown variant `subscribe`"),
        ({"params": [], "id": 1}, 2, "Invalid request: missing field `method`"),
        ('{"method": "SUBSCRIBE",', 3, "Invalid JSON: expected value at line 1 column 24"),
        ("hello", 3, "Invalid JSON: expected value at line 1 column 1"),
    ],
)
def test_errors_use_binance_codes(message: object, code: int, msg: str) -> None:
    answer = reply(message, Session())
    assert answer["code"] == code
    assert str(answer["msg"]).startswith(msg)


def test_error_reply_echoes_a_valid_id_and_omits_an_unknown_one() -> None:
    assert reply({"method": "GET_PROPERTY", "params": ["x"], "id": "abc123"}, Session())["id"] == "abc123"
    assert "id" not in reply("{", Session())


@pytest.mark.parametrize("request_id", [None, 0, 2**63 - 1, "a" * 36])
def test_accepted_ids(request_id: object) -> None:
    assert reply({"method": "LIST_SUBSCRIPTIONS", "id": request_id}, Session()) == {"result": [], "id": request_id}


def test_stream_limit_per_connection() -> None:
    session = Session(max_streams=2)
    answer = reply({"method": "SUBSCRIBE", "params": ["a@trade", "b@trade", "c@trade"], "id": 9}, session)
    assert answer["code"] == 2
    assert answer["id"] == 9
    assert session.subs == []
