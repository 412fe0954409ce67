"""The one base of SMATI's own exceptions.

Every failure the project expects (bad input, a service that cannot be reached, a
setting that does not parse) is a `SmatiError`: the CLI shows it to a person as one
line, never as a traceback. Anything else is a bug, and keeps its traceback.
"""

from __future__ import annotations


class SmatiError(Exception):
    """An expected failure, told to a person in one line (its `str`)."""
