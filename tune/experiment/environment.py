"""The environment Ray and Ray Tune read when they are imported or a search starts: set in one place.

`configure` runs before the first `import ray` of a process: tune.run calls
it in `main`, the benchmarks and the tests at their start. It only fills in
what the user has not set.
"""

from __future__ import annotations

import os
from pathlib import Path

# The cluster files start Ray with this token (README, "Scale out"): every
# driver on a node needs it too, and Ray reads it when it is imported.
CLUSTER_TOKEN = Path("~/.ray/au2bs-token").expanduser()

QUIET = {
    # Warnings about APIs this project does not use, and usage reporting.
    "RAY_TRAIN_ENABLE_V2_MIGRATION_WARNINGS": "0",
    "TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S": "0",
    "RAY_USAGE_STATS_ENABLED": "0",
    # Ray's newer console output ignores progress reporters; with --verbose, use the classic table.
    "RAY_AIR_NEW_OUTPUT": "0",
}


def configure() -> None:
    """Ray's environment for a search driver (call before importing Ray)."""
    if CLUSTER_TOKEN.is_file() and not {"RAY_AUTH_MODE", "RAY_AUTH_TOKEN_PATH"} & set(os.environ):
        os.environ.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN_PATH=str(CLUSTER_TOKEN))
    for name, value in QUIET.items():
        os.environ.setdefault(name, value)
    # Read by Ray Tune when a search starts: tune/experiment/interrupts.py forwards SIGINT itself.
    os.environ["TUNE_DISABLE_SIGINT_HANDLER"] = "1"
