"""JSON encoding that prints numbers the way Binance does.

Binance sends prices and quantities as strings with exactly 8 decimals (``"11783.31000000"``,
``"0.00000000"``). ``Decimal``'s own ``str`` switches to exponent notation for zero and small
values (``"0E-8"``, ``"1.2E-7"``), so every venue number goes through :func:`fixed8`, whose result
msgspec cannot encode natively and hands to :func:`_enc_hook`, which prints it in fixed notation.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

EIGHT_PLACES = Decimal("1E-8")


class _Fixed8(Decimal):
    """A Decimal already quantized to 8 places; encoded in fixed-point notation."""

    __slots__ = ()


def fixed8(value: Decimal | int | str) -> Decimal:
    """``value`` quantized to 8 decimals, tagged so it encodes like Binance (``"0.00000000"``)."""
    return _Fixed8(Decimal(value).quantize(EIGHT_PLACES))


def _enc_hook(obj: object) -> object:
    if isinstance(obj, Decimal):
        return format(obj, "f")
    raise NotImplementedError(f"cannot encode {type(obj).__name__}")


_encoder = msgspec.json.Encoder(enc_hook=_enc_hook)


def encode(obj: object) -> bytes:
    """JSON bytes of a Struct (or list/tuple of them) with Binance-style fixed decimals."""
    return _encoder.encode(obj)
