"""What a run folder holds and what the trials table calls its columns: one definition each.

    <storage>/<name>/
      config.json            the resolved settings (settings.py)
      trials.parquet         one row per trial (trials.py)
      summary.json           best configuration and the search's figures (summary.py)
      optuna.db              the Optuna study (study.py)
      driver.lock            who drives the run (lock.py)
      experiment_state-*.json, <trial>/result.json, error.txt, checkpoint_*/   Ray Tune's (ray_state.py)

Light on purpose (no Ray, no Optuna): inspection imports it without the search stack.
"""

from __future__ import annotations

# The three files the core reads too (au2bs.predict finds a run's best checkpoint) are named there.
from au2bs.run_summary import CONFIG_FILE, SUMMARY_FILE, TRIALS_FILE
from au2bs.train.checkpoint import CHECKPOINT_FILE  # inside every trial checkpoint folder

OPTUNA_FILE = "optuna.db"  # the Optuna study (SQLite)
ERROR_FILE = "error.txt"  # in a trial folder: Ray Tune appends every failure of the trial
DEFAULT_STORAGE = "./runs"  # where run folders go without --storage

METRIC = "val_mse"  # validation MSE over the 52 blendshapes: comparable across architectures
MODE = "min"
METRIC_COLUMNS = (METRIC, "val_r2", "val_r2_per_channel", "val_mse_all", "val_f1")
TRIAL_NUMBER = "study_trial"  # config key and column: the Optuna trial number, not a hyperparameter

__all__ = [
    "CHECKPOINT_FILE",
    "CONFIG_FILE",
    "DEFAULT_STORAGE",
    "ERROR_FILE",
    "METRIC",
    "METRIC_COLUMNS",
    "MODE",
    "OPTUNA_FILE",
    "SUMMARY_FILE",
    "TRIALS_FILE",
    "TRIAL_NUMBER",
    "best_column",
    "config_column",
    "config_columns",
    "last_column",
    "param_of",
]


def config_column(param: str) -> str:
    """The trials-table column of a hyperparameter."""
    return f"config/{param}"


def best_column(metric: str = METRIC) -> str:
    """The column of a metric at the trial's best epoch."""
    return f"best/{metric}"


def last_column(metric: str = METRIC) -> str:
    """The column of a metric at the trial's last reported epoch."""
    return f"last/{metric}"


def config_columns(columns) -> list[str]:
    """The hyperparameter columns among `columns` (a DataFrame's, for instance)."""
    return [c for c in columns if c.startswith("config/")]


def param_of(column: str) -> str:
    """The hyperparameter a config column holds."""
    return column.split("/", 1)[1]
