"""Stream entries decode into signals; anything else is a BadMessage, never a crash."""

from __future__ import annotations

import pytest

from algo_common.errors import BadMessage
from algo_common.streams import encode_signal
from tests.unit.trader.trader_builders import make_signal
from trader.decode import decode_entry

SIGNAL = make_signal()


def test_well_formed_entry_decodes() -> None:
    # arrange
    fields = {b"signal_id": SIGNAL.signal_id.encode(), b"signal": encode_signal(SIGNAL)}
    # act
    decoded = decode_entry(fields)
    # assert
    assert decoded == SIGNAL


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({b"other": b"x"}, "no signal field"),
        ({b"signal": b"{not json"}, "undecodable"),
        ({b"signal": b'{"signal_id": "x"}'}, "undecodable"),
        ({b"signal": encode_signal(make_signal(signal_id="has space"))}, "client order id"),
        ({b"signal": encode_signal(make_signal(signal_id="a" * 37))}, "client order id"),
        ({b"signal_id": b"other", b"signal": encode_signal(SIGNAL)}, "differs"),
    ],
    ids=["missing", "not-json", "missing-fields", "bad-id-chars", "id-too-long", "id-mismatch"],
)
def test_malformed_entry_raises_bad_message(fields: dict[bytes, bytes], reason: str) -> None:
    # arrange: the parameters
    # act / assert
    with pytest.raises(BadMessage, match=reason):
        decode_entry(fields)
