"""The one exception type the analysis engine raises for bad input."""

from __future__ import annotations


class AnalysisError(ValueError):
    """Input the engine cannot analyse: a missing column, a non-numeric item, bad margins...

    The message is written for the person who supplied the data, in one sentence, and never
    contains a traceback; the command line prints it on stderr and exits with status 2.
    """
