"""The venue boundary: Binance's JSON shapes, their parsing, endpoints and error codes."""
