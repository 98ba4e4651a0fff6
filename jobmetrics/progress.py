"""Progress display on stderr for long steps; silent when the user asked for --quiet or --json."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console

console = Console(stderr=True)


class Progress:
    """A one-line status that long steps update; does nothing when quiet."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self._status = None

    @contextmanager
    def step(self, title: str) -> Iterator[Progress]:
        if self.quiet:
            yield self
            return
        with console.status(title) as status:
            self._status = status
            self._title = title
            try:
                yield self
            finally:
                self._status = None

    def update(self, detail: str) -> None:
        if self._status is not None:
            self._status.update(f"{self._title}: {detail}")

    def done(self, message: str) -> None:
        if not self.quiet:
            console.print(f"[green]✓[/green] {message}")

    def note(self, message: str) -> None:
        """A line worth reading that is not an error (what an import skipped and why)."""
        if not self.quiet:
            console.print(f"[yellow]![/yellow] {message}", highlight=False)
