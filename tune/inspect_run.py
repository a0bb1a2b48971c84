"""Opening a run folder (local or URI) without starting Ray or loading the search stack."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import pandas as pd

from au2bs.errors import InputError
from tune import storage
from tune.artifacts import CONFIG_FILE, OPTUNA_FILE, best_column
from tune.options import SearchOptions
from tune.results import collect_trials, read_run_options


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

    @cached_property
    def study_url(self) -> str | None:
        """SQLite URL of the run's Optuna study; a run behind a URI has it fetched into the cache first."""
        study = storage.join(self.path, OPTUNA_FILE)
        if not storage.is_uri(self.path):
            return f"sqlite:///{study}" if storage.kind(study) == storage.FileType.File else None
        local = storage.cache_path("studies", study, OPTUNA_FILE)
        try:
            storage.copy_file(study, str(local))  # fetched every time: a study grows while its search runs
        except OSError:
            return None
        return f"sqlite:///{local}"


def open_run(path: str) -> Run:
    """Reads a run folder or URI; InputError if it is not a run of tune.run."""
    path = storage.absolute(path)
    try:
        if not storage.is_dir(path) and not storage.is_uri(path):
            raise InputError("run folder not found", path)
        options = read_run_options(path)
    except InputError:
        raise
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
    trials = trials.sort_values(best_column(), kind="stable").reset_index(drop=True)
    return Run(path, options, trials, histories)
