"""Deterministic ids: the same source always yields the same id, so replays are recognised."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping


def signal_id(strategy: str, params: Mapping[str, str], symbol: str, interval: str, bar_close_time: int) -> str:
    """Id of the decision a strategy takes at the close of a bar of ``interval``.

    The interval is part of the id: a 1h and a 1d bar both close at 23:59:59.999, and the same
    strategy run on both must not have its second decision taken for a replay of the first.

    32 hex characters: valid as a Binance ``newClientOrderId`` (``^[a-zA-Z0-9-_]{1,36}$``),
    so the trader can use it unchanged and a retried order can never become a second order.
    """
    canonical_params = ",".join(f"{key}={params[key]}" for key in sorted(params))
    source = f"{strategy}|{canonical_params}|{symbol.upper()}|{interval}|{bar_close_time}"
    return hashlib.blake2b(source.encode(), digest_size=16).hexdigest()


def client_order_id(signal_id_: str) -> str:
    """The exchange order id of a signal: the signal id itself (one order per signal)."""
    return signal_id_


def fill_id(client_order_id_: str, sequence: int) -> str:
    """Id of the ``sequence``-th fill of an order."""
    return f"{client_order_id_}-{sequence}"
