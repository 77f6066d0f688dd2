"""Decimal contexts used by the pure code, independent of the thread's current context."""

from __future__ import annotations

from decimal import Context

EXACT = Context(prec=60)
"""Sums and differences: 60 digits keep adding prices and volumes (8 decimals) exact in practice."""

VALUE = Context(prec=28)
"""Quotients (indicator values): 28 significant digits, half-even; fits MongoDB Decimal128 (34)."""
