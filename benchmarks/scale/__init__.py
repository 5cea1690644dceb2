"""Scale benchmark of the reports: row-level against aggregates (``python -m benchmarks.scale``)."""
