"""Errors of the report build; each is a UserError, so the CLI prints one line and exits 2."""

from __future__ import annotations

from pathlib import Path

from jobmetrics.errors import UserError


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
