"""Plain-text tables for the inspection commands."""

from __future__ import annotations


def text_table(rows: list[list[str]], right_from: int | None = None) -> str:
    """Rows of cells (the first is the header) in aligned columns.

    Columns from index `right_from` on are right-aligned (numbers); the
    others, and all of them when it is None, left-aligned.
    """
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]

    def cell(i: int, text: str) -> str:
        return text.rjust(widths[i]) if right_from is not None and i >= right_from else text.ljust(widths[i])

    return "\n".join("  ".join(cell(i, text) for i, text in enumerate(row)).rstrip() for row in rows)
