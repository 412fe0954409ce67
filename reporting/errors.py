"""The reports' expected failures."""

from __future__ import annotations

from models.errors import SmatiError

__all__ = ["ReportError"]


class ReportError(SmatiError, LookupError):
    """A report asked for something the tenant does not have."""
