"""Benchmarks and the money trial engine they share with the tests (bench/money_trials.py)."""
