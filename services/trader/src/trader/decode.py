"""Signal stream entries -> :class:`Signal`, or :class:`BadMessage` naming what is wrong."""

from __future__ import annotations

import re
from collections.abc import Mapping

import msgspec

from algo_common.domain.models import Signal
from algo_common.errors import BadMessage
from algo_common.streams import decode_signal

SIGNAL_FIELD = b"signal"
SIGNAL_ID_FIELD = b"signal_id"
# Binance newClientOrderId: the signal id becomes the client order id unchanged.
_CLIENT_ORDER_ID = re.compile(r"^[a-zA-Z0-9_-]{1,36}$")


def decode_entry(fields: Mapping[bytes, bytes]) -> Signal:
    """The signal of one ``trade_signals_stream`` entry."""
    raw = fields.get(SIGNAL_FIELD)
    if raw is None:
        raise BadMessage("entry has no signal field", repr(dict(fields)).encode())
    try:
        signal = decode_signal(raw)
    except msgspec.DecodeError as e:
        raise BadMessage(f"undecodable signal: {e}", raw) from e
    if not _CLIENT_ORDER_ID.fullmatch(signal.signal_id):
        raise BadMessage("signal id is not a valid client order id", raw)
    declared = fields.get(SIGNAL_ID_FIELD)
    if declared is not None and declared != signal.signal_id.encode():
        raise BadMessage("signal_id field differs from the signal's id", raw)
    return signal
