"""Binance errors of the trading endpoints, with the HTTP status each is sent with.

Binance documents only "4XX" for request errors. Observed practice, which we copy: ``-2014`` and
``-2015`` (API key missing, unknown or not allowed) come with HTTP 401 (e.g. binance-connector-
python issue #155: ``(401, -2015, ...)``); every other request error with HTTP 400.
"""

from __future__ import annotations

UNAUTHORIZED_CODES = frozenset({-2014, -2015, -1002})


class TradingError(Exception):
    """A request Binance would reject: ``{"code": code, "msg": msg}`` with ``status``."""

    def __init__(self, code: int, msg: str, status: int | None = None, retry_after_s: int | None = None) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg
        self.status = status if status is not None else (401 if code in UNAUTHORIZED_CODES else 400)
        self.retry_after_s = retry_after_s  # sent as Retry-After (429, 418)


def mandatory(name: str) -> TradingError:
    return TradingError(-1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")


def illegal(name: str, legal: str) -> TradingError:
    return TradingError(-1100, f"Illegal characters found in parameter '{name}'; legal range is '{legal}'.")


def not_required(name: str) -> TradingError:
    return TradingError(-1106, f"Parameter '{name}' sent when not required.")
