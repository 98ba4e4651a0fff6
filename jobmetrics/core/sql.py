"""SQL text built in Python: one way to write a value as a literal."""

from __future__ import annotations

from decimal import Decimal


def literal(value: object) -> str:
    """A value as a SQL literal: numbers as they are, anything else as a quoted string.

    For values known when the SQL is written (a path, a date, a filter's choice). DuckDB's
    Python binding imports pandas (a fifth of a second) for the first statement with bound
    parameters, so the build's checks write literals instead.
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"
