"""Command-line commands grouped by feature; ``survey/cli.py`` registers each module."""
