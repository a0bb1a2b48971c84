"""A search's run folder as the core reads it: its file names and its summary.json.

`tune.run` writes run folders (tune/runfolder/ owns their layout); the core
reads one to find the best checkpoint (`au2bs.predict --checkpoint RUN`), and
`tune.best` and `tune.compare` read the summary through `parse_summary`
too, so summary.json has one reader. No Ray, no tune: the core stays below
the distributed layer.
"""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath

from au2bs.errors import InputError
from au2bs.train.checkpoint import CHECKPOINT_FILE

CONFIG_FILE = "config.json"  # the resolved search settings
TRIALS_FILE = "trials.parquet"  # one row per trial
SUMMARY_FILE = "summary.json"  # the best configuration and the search's figures


def parse_summary(text: str, where: str | Path) -> dict:
    """summary.json's content as a dict; InputError naming `where` when it is not a JSON object."""
    try:
        summary = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(f"unreadable run summary: {error}", where) from None
    if not isinstance(summary, dict):
        raise InputError("unreadable run summary: not a JSON object", where)
    return summary


def best_checkpoint_of_run(run: Path) -> Path:
    """A local run folder's best checkpoint file, as its summary.json names it, where the run lies now."""
    path = run / SUMMARY_FILE
    try:
        summary = parse_summary(path.read_text(), path)
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"unreadable run summary: {error}", path) from None
    best = summary.get("best")
    if not best:
        raise InputError(
            f"the run has no best checkpoint: {summary.get('no_best') or 'no best configuration'}", run
        )
    checkpoint = str(best.get("checkpoint") or "")
    if "://" in checkpoint:
        raise InputError(
            f"the run's checkpoints lie behind a URI: `python -m tune.best {summary.get('run')} "
            "--checkpoint-only` fetches the best one and prints a local folder to pass here",
            run,
        )
    # The run may have been moved or copied since it wrote its summary: its own folder wins.
    try:
        folder = run / PurePosixPath(checkpoint).relative_to(str(summary.get("run")))
    except ValueError:
        folder = Path(checkpoint)
    if not (folder / CHECKPOINT_FILE).is_file():
        raise InputError("the run's best checkpoint is missing on disk", folder / CHECKPOINT_FILE)
    return folder / CHECKPOINT_FILE
