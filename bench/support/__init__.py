"""Shared by the benchmark scripts (not a benchmark itself)."""
