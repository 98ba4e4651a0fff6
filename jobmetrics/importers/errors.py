"""The importers' own exception: a source, its mapping or its rows break the raw contract."""

from __future__ import annotations

from jobmetrics.core.errors import UserError


class SourceError(UserError):
    """Bad input from a source (Stripe, PostgreSQL, files) or its mapping file; the message
    names the source and, for a row, its table, id and column, in one line."""
