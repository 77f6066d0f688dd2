"""algo-trade developer tooling: the local pipeline (`algo-trade up`), local servers, backtests."""
