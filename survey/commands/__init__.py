"""Command-line tools, one module per capability (registered from ``survey.cli``)."""
