"""The run folder's summary.json: the best configuration, its figures, and where to look next.

One schema, written here at the end of a search (and of an interrupted one)
and read back through `au2bs.run_summary.parse_summary` by `tune.compare`
and `au2bs.predict`. `best_entry` is the one description of a best trial:
summary.json's "best" and `tune.best --json`'s are the same.
"""

from __future__ import annotations

import json
import math

import pandas as pd

from au2bs.run_summary import parse_summary
from tune.outcome import Outcome
from tune.runfolder import storage
from tune.runfolder.layout import (
    DEFAULT_STORAGE,
    METRIC,
    METRIC_COLUMNS,
    SUMMARY_FILE,
    TRIALS_FILE,
    best_column,
    config_columns,
    param_of,
)
from tune.runfolder.placement import placement_summary
from tune.runfolder.settings import SearchOptions
from tune.runfolder.trials import plain


def best_entry(best: pd.Series, columns) -> dict:
    """A trial row (the best) as summary.json's "best": configuration, seed, epoch, metrics, checkpoint."""
    return {
        "trial_id": best["trial_id"],
        "config": {param_of(c): plain(best[c]) for c in config_columns(columns)},
        "seed": plain(best["seed"]),
        "epoch": plain(best["best_epoch"]),
        **{name: plain(best.get(best_column(name))) for name in METRIC_COLUMNS},
        "checkpoint": best["best_checkpoint"],
    }


def read_summary(run_path: str) -> dict | None:
    """The summary.json of the run at `run_path` (folder or URI); None before the search wrote one."""
    path = storage.join(run_path, SUMMARY_FILE)
    text = storage.read_text(path)
    return None if text is None else parse_summary(text, path)


def summarize(
    trials: pd.DataFrame,
    options: SearchOptions,
    wall_s: float,
    notes: list[str],
    interrupted: str | None = None,
    resume: str | None = None,
) -> dict:
    """The run's summary.json: best configuration (None when every trial diverged or failed)."""
    ranked = trials.sort_values(best_column(), kind="stable")
    best = ranked.iloc[0]
    research = trials[trials["research_config"]]
    research_mse = float(research[best_column()].min()) if len(research) else None
    best_mse = float(best[best_column()])
    improvement = (
        100.0 * (research_mse - best_mse) / research_mse
        if research_mse not in (None, 0)
        and math.isfinite(research_mse or math.nan)
        and math.isfinite(best_mse)
        else None
    )
    has_best = math.isfinite(best_mse)
    return {
        "arch": options.plan.arch,
        "run": options.run_path,
        "metric": f"{METRIC} (validation MSE over the 52 blendshapes, lower is better)",
        "interrupted": interrupted,  # the signal that stopped the search, or None
        "best": best_entry(best, trials.columns) if has_best else None,
        "no_best": None if has_best else no_best_reason(trials),
        "research_config": {
            "val_mse": research_mse,
            "trial_id": research["trial_id"].iloc[0] if len(research) else None,
        },
        "improvement_over_research_pct": improvement,
        "trials": {str(k): int(v) for k, v in trials["status"].value_counts().items()},
        "epochs_run": int(trials["epochs"].sum()),
        "placement": placement_summary(trials),
        "wall_seconds": round(wall_s, 1),
        "notes": notes,
        "inspect": f"python -m tune.best {options.run_path}",
        "resume": resume if interrupted else None,
    }


def no_best_reason(trials: pd.DataFrame) -> str:
    """Why a run has no best configuration, in one line."""
    counts = trials["status"].value_counts()
    if counts.get(Outcome.DIVERGED.value, 0) == len(trials):
        return (
            f"every trial diverged ({len(trials)} of {len(trials)}): there is no best configuration; "
            "narrow the learning-rate range or check the data for extreme values"
        )
    return "no trial finished an epoch with a finite validation MSE: there is no best configuration"


def save_results(trials: pd.DataFrame, summary: dict, options: SearchOptions) -> None:
    storage.write_bytes(storage.join(options.run_path, TRIALS_FILE), trials.to_parquet(index=False))
    summary_json = json.dumps(summary, indent=1) + "\n"
    storage.write_bytes(storage.join(options.run_path, SUMMARY_FILE), summary_json.encode())


def resume_command(name: str, storage_root: str) -> str:
    """The exact command that resumes run `name` (with --storage unless it is the default)."""
    command = f"python -m tune.run --resume {name}"
    return (
        command
        if storage_root == storage.absolute(DEFAULT_STORAGE)
        else f"{command} --storage {storage_root}"
    )
