"""Query results read from the warehouse, one shape for every reader: the rows of a named query
(`QueryResult`, which report pages read as `kpis.mrr` or `row.mrr`) and the one conversion of a
DuckDB value to JSON (`to_json_value`: page data, CSV downloads, `ask --json`, the rows sent to
Claude)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from jobmetrics.core.errors import PageProblem


class Row(Mapping[str, Any]):
    """One result row; pages read `row.mrr` (the page environment looks columns up first)."""

    __slots__ = ("_result", "_values")

    def __init__(self, result: QueryResult, values: tuple) -> None:
        self._result = result
        self._values = values

    def __getitem__(self, column: str) -> Any:
        return self._values[self._result.index(column)]

    def __iter__(self) -> Iterator[str]:
        return iter(self._result.columns)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Row({dict(self)!r})"


@dataclass
class QueryResult:
    """The rows of one named query; in a page `kpis.mrr` is the first row's value (as in Evidence).

    Pages reach columns through the page environment's attribute lookup (reports.render), so a
    column called `name` or `rows` is still a column there, not this object's attribute.
    """

    name: str
    columns: list[str]
    rows: list[tuple]
    sql: str = ""
    line: int | None = None
    tables: set[str] = field(default_factory=set)
    truncated: bool = False
    """More rows matched than were fetched (`ask`'s row limit)."""
    seconds: float = 0.0
    """How long the query took."""
    _positions: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._positions = {column: i for i, column in enumerate(self.columns)}

    def index(self, column: str) -> int:
        """Position of a column; an unknown column is a page error naming the known ones."""
        try:
            return self._positions[column]
        except KeyError:
            raise PageProblem(
                f"query {self.name!r} has no column {column!r} (columns: {', '.join(self.columns)})"
            ) from None

    def column(self, column: str) -> list[Any]:
        position = self.index(column)
        return [row[position] for row in self.rows]

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]

    def first(self, column: str) -> Any:
        """The first row's value of a column; None when the query returned no rows."""
        position = self.index(column)
        return self.rows[0][position] if self.rows else None

    def filtered(self, conditions: Mapping[str, str]) -> QueryResult:
        """The rows whose columns equal the given values (compared as text), as a new result."""
        positions = {self.index(column): value for column, value in conditions.items()}
        rows = [
            row
            for row in self.rows
            if all(str(row[position]) == value for position, value in positions.items())
        ]
        suffix = "-".join(re.sub(r"[^A-Za-z0-9]+", "_", value) for value in conditions.values())
        return QueryResult(
            name=f"{self.name}-{suffix}",
            columns=self.columns,
            rows=rows,
            sql=self.sql,
            line=self.line,
            tables=self.tables,
        )

    def __iter__(self) -> Iterator[Row]:
        return (Row(self, values) for values in self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __bool__(self) -> bool:
        return bool(self.rows)

    def __getitem__(self, key: int | str) -> Any:
        if isinstance(key, int):
            return Row(self, self.rows[key])
        return self.first(key)


def to_json_value(value: Any) -> Any:
    """A JSON-safe form of a DuckDB value (Decimal → float, dates → ISO text, doubles to 12
    significant digits)."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        # NaN has no JSON form; 12 significant digits drop binary noise (6177.2999999999965).
        return None if value != value else float(f"{value:.12g}")
    if isinstance(value, list | tuple):
        return [to_json_value(item) for item in value]
    if isinstance(value, bytes):
        return value.hex()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
