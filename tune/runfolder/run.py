"""Opening a run folder (local or URI) without starting Ray or loading the search stack."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pandas as pd

from au2bs.errors import InputError
from tune.outcome import Outcome
from tune.runfolder import storage
from tune.runfolder.layout import CHECKPOINT_FILE, CONFIG_FILE, best_column
from tune.runfolder.settings import SearchOptions
from tune.runfolder.study import existing_study_url
from tune.runfolder.summary import no_best_reason
from tune.runfolder.trials import collect_trials, read_run_options

CHECKPOINT_CACHE = "checkpoints"  # the cache folder of checkpoints fetched from behind URIs


@dataclass
class Run:
    """A search as it lies on disk, with one row per trial."""

    path: str
    options: SearchOptions
    trials: pd.DataFrame  # from `collect_trials`, ranked best first
    histories: dict[str, pd.DataFrame]  # trial id -> one row per reported epoch

    @property
    def finished(self) -> bool:
        return not (self.trials["status"] == Outcome.UNFINISHED.value).any()

    @property
    def best(self) -> pd.Series:
        return self.trials.iloc[0]

    @property
    def has_result(self) -> bool:
        return bool(len(self.trials)) and pd.notna(self.best["best_checkpoint"])

    @cached_property
    def study_url(self) -> str | None:
        """SQLite URL of the run's Optuna study; a run behind a URI has it fetched into the cache first."""
        return existing_study_url(self.path)

    def best_checkpoint_file(self) -> Path:
        """The best checkpoint's file, fetched into a local cache when the run lies behind a URI;
        InputError when there is none or it is gone."""
        if not self.has_result:
            raise InputError(no_best_reason(self.trials), self.path)
        checkpoint = storage.join(self.best["best_checkpoint"], CHECKPOINT_FILE)
        if not storage.is_uri(checkpoint):
            if not Path(checkpoint).is_file():
                raise InputError("the best trial's checkpoint is missing on disk", checkpoint)
            return Path(checkpoint)
        # Checkpoints never change once written: a fetched copy is kept.
        local = storage.cache_path(CHECKPOINT_CACHE, checkpoint, CHECKPOINT_FILE)
        if not local.is_file():
            try:
                storage.copy_file(checkpoint, str(local))
            except OSError as error:
                raise InputError(f"cannot fetch the best checkpoint: {error}", checkpoint) from None
        return local


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
