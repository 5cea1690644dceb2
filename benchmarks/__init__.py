"""Benchmarks of the analysis engine against R's survey, svy and samplics (see README.md)."""
