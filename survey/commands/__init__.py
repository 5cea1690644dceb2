"""Command-line commands grouped by subject, each module registered from survey/cli.py."""
