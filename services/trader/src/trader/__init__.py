"""The trader: executes trade signals on a venue (paper now, Binance spot next), exactly once each."""
