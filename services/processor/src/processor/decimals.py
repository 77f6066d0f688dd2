"""Decimal contexts of the pure code, and the exact context its hot loops run operators under."""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextlib import AbstractContextManager
from decimal import Context, getcontext, localcontext
from typing import ParamSpec, TypeVar

EXACT = Context(prec=60)
"""Sums and differences: 60 digits keep adding prices and volumes (8 decimals) exact in practice."""

VALUE = Context(prec=28)
"""Quotients (indicator values): 28 significant digits, half-even; fits MongoDB Decimal128 (34)."""

P = ParamSpec("P")
R = TypeVar("R")


def exact_context() -> AbstractContextManager[Context]:
    """Make :data:`EXACT` the thread's context for a block: hot loops then use operators (``+ - *``).

    An operator uses the thread's context and costs ~130 ns against ~350 ns for ``EXACT.add(...)``
    (the method call's argument parsing dominates). Code that relies on it checks
    :func:`is_exact` and enters this context itself when the caller has not.
    """
    return localcontext(EXACT)


def is_exact() -> bool:
    """True when the thread's context keeps at least :data:`EXACT`'s digits (operators are exact)."""
    return getcontext().prec >= EXACT.prec


def exactly(function: Callable[P, R]) -> Callable[P, R]:
    """Run ``function`` under a context of at least :data:`EXACT`'s digits (entering it only if needed)."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if is_exact():
            return function(*args, **kwargs)
        with localcontext(EXACT):
            return function(*args, **kwargs)

    return wrapper
