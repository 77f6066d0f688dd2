"""Binance payloads for the Binance venue's unit tests.

The order response and ``executionReport`` bodies are the examples of Binance's spot API
documentation (``rest-api.md`` "New order" FULL response, ``user-data-stream.md`` "Order update"),
with only the symbol's assets adapted where a test needs them; ``EXCHANGE_INFO`` carries BTCUSDT's
2026 filter values (tick 0.01, step 0.00001, NOTIONAL min 5) plus a filter type the trader ignores.
"""

from __future__ import annotations

FULL_RESPONSE = b"""{
  "symbol": "BTCUSDT", "orderId": 28, "orderListId": -1, "clientOrderId": "6gCrw2kRUAF9CvJDGP16IP",
  "transactTime": 1507725176595, "price": "0.00000000", "origQty": "10.00000000",
  "executedQty": "10.00000000", "origQuoteOrderQty": "0.000000", "cummulativeQuoteQty": "39983.00000000",
  "status": "FILLED", "timeInForce": "GTC", "type": "MARKET", "side": "SELL",
  "workingTime": 1507725176595, "selfTradePreventionMode": "NONE",
  "fills": [
    {"price": "4000.00000000", "qty": "1.00000000", "commission": "4.00000000",
     "commissionAsset": "USDT", "tradeId": 56},
    {"price": "3999.00000000", "qty": "5.00000000", "commission": "19.99500000",
     "commissionAsset": "USDT", "tradeId": 57},
    {"price": "3998.00000000", "qty": "2.00000000", "commission": "7.99600000",
     "commissionAsset": "USDT", "tradeId": 58},
    {"price": "3997.00000000", "qty": "1.00000000", "commission": "3.99700000",
     "commissionAsset": "USDT", "tradeId": 59},
    {"price": "3995.00000000", "qty": "1.00000000", "commission": "3.99500000",
     "commissionAsset": "USDT", "tradeId": 60}
  ]
}"""

EXECUTION_REPORT_NEW = b"""{
  "subscriptionId": 0,
  "event": {
    "e": "executionReport", "E": 1499405658658, "s": "BTCUSDT", "c": "mUvoqJxFIILMdfAW5iGSOW", "S": "BUY",
    "o": "LIMIT", "f": "GTC", "q": "1.00000000", "p": "0.10264410", "P": "0.00000000", "F": "0.00000000",
    "g": -1, "C": "", "x": "NEW", "X": "NEW", "r": "NONE", "i": 4293153, "l": "0.00000000", "z": "0.00000000",
    "L": "0.00000000", "n": "0", "N": null, "T": 1499405658657, "t": -1, "v": 3, "I": 8641984, "w": true,
    "m": false, "M": false, "O": 1499405658657, "Z": "0.00000000", "Y": "0.00000000", "Q": "0.00000000",
    "W": 1499405658657, "V": "NONE"
  }
}"""

EXECUTION_REPORT_TRADE = (
    EXECUTION_REPORT_NEW.replace(b'"x": "NEW", "X": "NEW"', b'"x": "TRADE", "X": "PARTIALLY_FILLED"')
    .replace(b'"l": "0.00000000", "z": "0.00000000"', b'"l": "0.40000000", "z": "0.40000000"')
    .replace(b'"L": "0.00000000", "n": "0", "N": null', b'"L": "0.10264410", "n": "0.00040000", "N": "BTC"')
    .replace(b'"t": -1', b'"t": 12345')
)

EXECUTION_REPORT_CANCELED = EXECUTION_REPORT_NEW.replace(
    b'"c": "mUvoqJxFIILMdfAW5iGSOW"', b'"c": "cancelRequest1"'
).replace(b'"C": "", "x": "NEW", "X": "NEW"', b'"C": "mUvoqJxFIILMdfAW5iGSOW", "x": "CANCELED", "X": "CANCELED"')

EXCHANGE_INFO = b"""{
  "timezone": "UTC", "serverTime": 1565246363776, "rateLimits": [], "exchangeFilters": [],
  "symbols": [{
    "symbol": "BTCUSDT", "status": "TRADING", "baseAsset": "BTC", "quoteAsset": "USDT",
    "filters": [
      {"filterType": "PRICE_FILTER", "minPrice": "0.01000000", "maxPrice": "1000000.00000000",
       "tickSize": "0.01000000"},
      {"filterType": "LOT_SIZE", "minQty": "0.00001000", "maxQty": "9000.00000000", "stepSize": "0.00001000"},
      {"filterType": "ICEBERG_PARTS", "limit": 10},
      {"filterType": "MARKET_LOT_SIZE", "minQty": "0.00000000", "maxQty": "100.00000000", "stepSize": "0.00000000"},
      {"filterType": "NOTIONAL", "minNotional": "5.00000000", "applyMinToMarket": true,
       "maxNotional": "9000000.00000000", "applyMaxToMarket": false, "avgPriceMins": 5}
    ]
  }]
}"""

# user-data-stream.md "Account Update" and "Balance Update", in the WebSocket API envelope
OUTBOUND_ACCOUNT_POSITION = b"""{"subscriptionId": 0, "event": {"e": "outboundAccountPosition", "E": 1564034571105,
  "u": 1564034571073, "B": [{"a": "ETH", "f": "10000.000000", "l": "0.000000"}]}}"""

BALANCE_UPDATE = b"""{"subscriptionId": 0, "event": {"e": "balanceUpdate", "E": 1573200697110, "a": "BTC",
  "d": "100.00000000", "T": 1573200697068}}"""
