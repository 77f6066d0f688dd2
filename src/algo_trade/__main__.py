"""`python -m algo_trade`: the same as the `algo-trade` command."""

from algo_trade.cli import main

main()
