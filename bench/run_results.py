"""A run's per-trial results as Ray writes them (result.json), readable while the search runs.

Shared by the benchmarks and the tests (which put bench/ on their path).
"""

from __future__ import annotations

import json
from pathlib import Path


def trial_results(run: Path) -> dict[str, list[dict]]:
    """trial folder name -> its reported results, in order (Ray's result.json)."""
    out = {}
    for folder in sorted(p for p in run.iterdir() if p.is_dir() and p.name.startswith("train_trial_")):
        path = folder / "result.json"
        lines = path.read_text().splitlines() if path.is_file() else []
        out[folder.name] = [row for row in map(_parse, lines) if row is not None]
    return out


def _parse(line: str) -> dict | None:
    """A result row; None for a blank line or one Ray is still writing."""
    try:
        return json.loads(line) if line.strip() else None
    except json.JSONDecodeError:
        return None
