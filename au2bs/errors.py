"""The error every reader and command raises for input a user can fix."""

from __future__ import annotations

from pathlib import Path


class InputError(Exception):
    """Bad input: names the file, and the line and column where they apply.

    Command-line entry points print the message and exit with status 2.
    """

    def __init__(
        self,
        message: str,
        path: str | Path | None = None,
        line: int | None = None,
        column: str | None = None,
    ) -> None:
        self.message = message
        self.path = None if path is None else str(path)
        self.line = line
        self.column = column
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.path or ""
        if self.line is not None:
            where += f":{self.line}"
        if self.column is not None:
            where += f" (column {self.column})"
        return f"{where}: {self.message}" if where else self.message
