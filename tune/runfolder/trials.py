"""The run folder's trials table (trials.parquet): one row per trial, from plain files only.

Each row: the configuration, seed, how the trial ended (tune/outcome.py),
epochs, failures, best and last metrics, best checkpoint and where it ran.
Nothing in the run folder is unpickled (tune/runfolder/ray_state.py).
"""

from __future__ import annotations

import math

import pandas as pd

from au2bs.models.space import research_point
from tune.outcome import trial_outcome
from tune.runfolder import storage
from tune.runfolder.layout import (
    CONFIG_FILE,
    METRIC,
    METRIC_COLUMNS,
    TRIAL_NUMBER,
    best_column,
    config_column,
    last_column,
)
from tune.runfolder.placement import placement
from tune.runfolder.ray_state import TrialFiles, failure_count, read_trials
from tune.runfolder.settings import SearchOptions


def read_run_options(run_path: str) -> SearchOptions | None:
    """The settings a run was started with (its config.json); None when it has none.

    Raises whatever pyarrow raises for a path or URI it cannot read.
    """
    text = storage.read_text(storage.join(run_path, CONFIG_FILE))
    return None if text is None else SearchOptions.from_json(text)


def _same_config(config: dict, point: dict) -> bool:
    return all(
        name in config and math.isclose(float(config[name]), float(value), rel_tol=1e-9)
        for name, value in point.items()
    )


def collect_trials(run_path: str, options: SearchOptions) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """One row per trial of the run at `run_path`, and each trial's per-epoch history.

    Reads plain files only (tune/runfolder/ray_state.py): nothing in the run folder is
    unpickled. Works on finished and interrupted runs alike (unfinished trials
    say so). ValueError when the run has no experiment state yet.
    """
    trials = read_trials(run_path)
    histories = {t.trial_id: t.history for t in trials if t.history is not None}
    return trial_rows(trials, options), histories


def trial_rows(trials: list[TrialFiles], options: SearchOptions) -> pd.DataFrame:
    """One row per trial."""
    research = research_point(options.plan.arch)
    rows = []
    for trial in trials:
        history = trial.history
        last = history.iloc[-1].to_dict() if history is not None else {}
        config = dict(trial.config)
        number = config.pop(TRIAL_NUMBER, None)
        row = {
            "trial_id": trial.trial_id,
            TRIAL_NUMBER: number,
            "research_config": _same_config(config, research),
        }
        row.update({config_column(k): v for k, v in config.items()})
        row["seed"] = plain(last.get("seed"))
        # The trainer's own count: after a fall-back to an older checkpoint, Ray's
        # training_iteration runs ahead of the epochs actually trained.
        epochs = int(last.get("epoch", last.get("training_iteration", 0)) or 0)
        diverged = bool(last.get("diverged", False))
        failures = failure_count(trial.error)
        # Out of retries: Ray Tune's saved state can miss the final ERROR of a
        # trial whose node died, but its error file counts every failure.
        errored = trial.status == "ERROR" or failures > options.resources.max_failures
        error = last.get("error") if isinstance(last.get("error"), str) else None
        if errored and trial.error:
            error = [line for line in trial.error.splitlines() if line.strip()][-1]
        row.update(
            status=trial_outcome(
                epochs,
                options.plan.max_epochs,
                ended=trial.status in ("TERMINATED", "ERROR"),
                errored=errored,
                diverged=diverged,
            ).value,
            epochs=epochs,
            failures=failures,
            error=error,
        )
        valid = history[history[METRIC].apply(_finite)] if history is not None and METRIC in history else None
        if valid is not None and len(valid):
            best = valid.loc[valid[METRIC].idxmin()]
            row["best_epoch"] = int(best["epoch"])
            row.update({best_column(name): float(best[name]) for name in METRIC_COLUMNS if name in best})
            folder = best.get("checkpoint_dir_name")
            # Named even when it is gone from disk: tune.best then says it is missing.
            row["best_checkpoint"] = f"{trial.path}/{folder}" if isinstance(folder, str) else None
        else:
            row.update(
                best_epoch=None,
                best_checkpoint=None,
                **{best_column(m): math.inf if m == METRIC else None for m in METRIC_COLUMNS},
            )
        row.update({last_column(name): plain(last.get(name)) for name in METRIC_COLUMNS})
        row.update(placement(history))
        notes = (
            history["restore_note"].dropna().unique().tolist()
            if history is not None and "restore_note" in history
            else []
        )
        row["restore_note"] = "; ".join(notes) or None
        row["trial_path"] = trial.path
        rows.append(row)
    return pd.DataFrame(rows)


def _finite(value) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def plain(value):
    """A table cell as plain JSON: numpy scalars as Python numbers, NaN as None."""
    if value is None:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value
