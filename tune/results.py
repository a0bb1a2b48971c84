"""From Ray's results to the run folder's flat table and summary.

`trials.parquet`: one row per trial (configuration, seed, status, epochs,
why it stopped, best and last metrics, best checkpoint). `summary.json`:
the best configuration, its metrics, the gain over the research's
configuration, and where to look next.
"""

from __future__ import annotations

import json
import math

import pandas as pd

from au2bs.models.space import research_point
from tune import storage
from tune.artifacts import (
    CONFIG_FILE,
    METRIC,
    METRIC_COLUMNS,
    SUMMARY_FILE,
    TRIAL_NUMBER,
    TRIALS_FILE,
    best_column,
    config_column,
    config_columns,
    last_column,
    param_of,
)
from tune.options import SearchOptions
from tune.placement import placement, placement_summary
from tune.run_files import TrialFiles, failure_count, read_trials


def read_run_options(run_path: str) -> SearchOptions | None:
    """The settings a run was started with (its config.json); None when it has none.

    Raises whatever pyarrow raises for a path or URI it cannot read.
    """
    text = storage.read_text(storage.join(run_path, CONFIG_FILE))
    return None if text is None else SearchOptions.from_json(text)


def why_stopped(epochs: int, max_epochs: int, ray_status: str, errored: bool, diverged: bool) -> str:
    """How a trial ended, in words, from Ray's status and what it reported."""
    if errored or ray_status == "ERROR":
        return "errored"
    if diverged:
        return "diverged"
    if epochs >= max_epochs:
        return "completed"
    return "stopped early (ASHA)" if ray_status == "TERMINATED" else "unfinished"


def _same_config(config: dict, point: dict) -> bool:
    return all(
        name in config and math.isclose(float(config[name]), float(value), rel_tol=1e-9)
        for name, value in point.items()
    )


def collect_trials(run_path: str, options: SearchOptions) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """One row per trial of the run at `run_path`, and each trial's per-epoch history.

    Reads plain files only (tune/run_files.py): nothing in the run folder is
    unpickled. Works on finished and interrupted runs alike (unfinished trials
    say so). ValueError when the run has no experiment state yet.
    """
    trials = read_trials(run_path)
    histories = {t.trial_id: t.history for t in trials if t.history is not None}
    return trial_rows(trials, options), histories


def trial_rows(trials: list[TrialFiles], options: SearchOptions) -> pd.DataFrame:
    """One row per trial."""
    research = research_point(options.arch)
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
        row["seed"] = _plain(last.get("seed"))
        # The trainer's own count: after a fall-back to an older checkpoint, Ray's
        # training_iteration runs ahead of the epochs actually trained.
        epochs = int(last.get("epoch", last.get("training_iteration", 0)) or 0)
        diverged = bool(last.get("diverged", False))
        failures = failure_count(trial.error)
        # Out of retries: Ray Tune's saved state can miss the final ERROR of a
        # trial whose node died, but its error file counts every failure.
        errored = trial.status == "ERROR" or failures > options.max_failures
        error = last.get("error") if isinstance(last.get("error"), str) else None
        if errored and trial.error:
            error = [line for line in trial.error.splitlines() if line.strip()][-1]
        row.update(
            status=why_stopped(epochs, options.max_epochs, trial.status, errored, diverged),
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
        row.update({last_column(name): _plain(last.get(name)) for name in METRIC_COLUMNS})
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
        "arch": options.arch,
        "run": options.run_path,
        "metric": f"{METRIC} (validation MSE over the 52 blendshapes, lower is better)",
        "interrupted": interrupted,  # the signal that stopped the search, or None
        "best": {
            "trial_id": best["trial_id"],
            "config": {param_of(c): _plain(best[c]) for c in config_columns(trials.columns)},
            "seed": _plain(best["seed"]),
            "epoch": _plain(best["best_epoch"]),
            **{name: _plain(best.get(best_column(name))) for name in METRIC_COLUMNS},
            "checkpoint": best["best_checkpoint"],
        }
        if has_best
        else None,
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
    if counts.get("diverged", 0) == len(trials):
        return (
            f"every trial diverged ({len(trials)} of {len(trials)}): there is no best configuration; "
            "narrow the learning-rate range or check the data for extreme values"
        )
    return "no trial finished an epoch with a finite validation MSE: there is no best configuration"


def _plain(value):
    if value is None:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def save_results(trials: pd.DataFrame, summary: dict, options: SearchOptions) -> None:
    storage.write_bytes(storage.join(options.run_path, TRIALS_FILE), trials.to_parquet(index=False))
    summary_json = json.dumps(summary, indent=1) + "\n"
    storage.write_bytes(storage.join(options.run_path, SUMMARY_FILE), summary_json.encode())


def format_summary(summary: dict) -> str:
    best = summary["best"]
    interrupted = summary.get("interrupted")
    if best is None:
        lines = ["", f"{summary['arch']}: {summary['no_best']}"]
    else:
        label = (
            f"best so far of {summary['arch']}, search interrupted by {interrupted}"
            if interrupted
            else f"best configuration of {summary['arch']}"
        )
        lines = [
            "",
            f"{label} (trial {best['trial_id']}, epoch {best['epoch']}):",
            *[f"  {name:<18}{value}" for name, value in best["config"].items()],
            f"  validation MSE {best['val_mse']:.6f}, R2 {best['val_r2']:.3f} (52 blendshapes)",
        ]
    research = summary["research_config"]["val_mse"]
    if summary["improvement_over_research_pct"] is not None:
        lines.append(
            f"  research configuration: validation MSE {research:.6f}; the search improves on it by "
            f"{summary['improvement_over_research_pct']:.1f} %"
        )
    lines += [
        f"trials: {', '.join(f'{n} {k}' for k, n in summary['trials'].items())}; {summary['epochs_run']} epochs in {summary['wall_seconds']:.0f} s",
        *([f"nodes: {summary['placement']}"] if summary.get("placement") else []),
        *[f"note: {note}" for note in summary["notes"]],
        *([f"checkpoint: {best['checkpoint']}"] if best else []),
        f"inspect:    {summary['inspect']}",
        *([f"resume:     {summary['resume']}"] if interrupted else []),
    ]
    return "\n".join(lines)
