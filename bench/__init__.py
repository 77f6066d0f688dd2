"""Benchmarks: run by hand (`./dev bench`), never by the test suite; they print figures."""
