"""Opening a run folder (local or URI) without starting Ray."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from au2bs.errors import InputError
from tune.options import CONFIG_FILE, SearchOptions
from tune.results import collect_trials, read_run_options
from tune.search import OPTUNA_FILE
from tune.trainable import METRIC


@dataclass
class Run:
    """A search as it lies on disk, with one row per trial."""

    path: str
    options: SearchOptions
    trials: pd.DataFrame  # from `collect_trials`, ranked best first
    histories: dict[str, pd.DataFrame]  # trial id -> one row per reported epoch

    @property
    def finished(self) -> bool:
        return not (self.trials["status"] == "unfinished").any()

    @property
    def best(self) -> pd.Series:
        return self.trials.iloc[0]

    @property
    def has_result(self) -> bool:
        return bool(len(self.trials)) and pd.notna(self.best["best_checkpoint"])

    @property
    def study_url(self) -> str | None:
        path = Path(self.path) / OPTUNA_FILE
        return f"sqlite:///{path}" if "://" not in self.path and path.is_file() else None


def open_run(path: str) -> Run:
    """Reads a run folder or URI; InputError if it is not a run of tune.run."""
    path = path if "://" in path else str(Path(path).resolve())
    if "://" not in path and not Path(path).is_dir():
        raise InputError("run folder not found", path)
    try:
        options = read_run_options(path)
    except Exception as error:  # pyarrow raises many kinds for a bad URI
        raise InputError(f"cannot read the run: {error}", path) from None
    if options is None:
        raise InputError(f"not a run of tune.run (no {CONFIG_FILE})", path)
    try:
        trials, histories = collect_trials(path, options)
    except Exception as error:  # no experiment state yet, or an unreadable one
        raise InputError(f"no trial results to read: {error}", path) from None
    if trials.empty:
        raise InputError("the run has no trial yet", path)
    trials = trials.sort_values(f"best/{METRIC}", kind="stable").reset_index(drop=True)
    return Run(path, options, trials, histories)
