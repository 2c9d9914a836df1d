"""Tests that pin behaviour down for mutation testing (benchmarks/mutation.py)."""
