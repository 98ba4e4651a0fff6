"""Every exception a user can cause, in one place; the CLI turns each into one line on stderr and
exit code 2. Lower layers raise them; the layer that knows more (a page's line) adds it."""

from __future__ import annotations

from pathlib import Path


class UserError(Exception):
    """Bad input or environment the user can fix: the message says what is wrong and where."""


class BuildFailed(UserError):
    """dbt build reported errors; the previous warehouse was kept."""


class SeedError(UserError):
    """A hand-edited seed (seeds/*.csv) has a value dbt would reject or misread; the message
    names the file, the line and the column."""


class BuildLocked(UserError):
    """Another build holds the warehouse lock."""


class WarehouseUnavailable(UserError):
    """There is no warehouse file to read, or DuckDB cannot open it read-only."""


class WarehouseInUse(UserError):
    """Another process has the live warehouse open for writing."""


class ReportError(UserError):
    """Something in the report site's input is wrong (warehouse, pages folder, a page)."""


def _shown(path: Path) -> Path:
    """The path relative to the working folder when it is inside it (shorter in messages)."""
    try:
        return path.resolve().relative_to(Path.cwd())
    except ValueError:
        return path


class PageError(ReportError):
    """A page cannot be built: names the page file, the line and the cause in one line."""

    def __init__(self, page: Path | str, line: int | None, message: str) -> None:
        self.page = Path(page)
        self.line = line
        self.message = " ".join(message.split())
        where = f"{_shown(self.page)}:{line}" if line else str(_shown(self.page))
        super().__init__(f"{where}: {self.message}")


class PageProblem(ReportError):
    """Raised inside the page pipeline before the page and line are known; becomes a PageError."""

    def __init__(self, message: str, line: int | None = None) -> None:
        self.line = line
        super().__init__(message)
