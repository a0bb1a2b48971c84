"""A run's trials read from plain files only: no unpickling, so no code from the run folder runs.

Ray Tune's own readers (`ExperimentAnalysis`, `ResultGrid`, `Tuner.restore`)
unpickle fields of the experiment state; whoever can write a run folder (or
the bucket behind a URI) could make them run code. `tune.best`,
`tune.compare` and the end-of-search summary read instead:

- the newest `experiment_state-*.json`, parsed as JSON, taking only its plain
  fields (trial id, status, folder, configuration, failure count) and never
  the hex-encoded pickles beside them;
- each trial folder's `result.json` (one JSON line per reported epoch) and
  `error.txt`.

Only `--resume` unpickles (it has to: Ray's restore), which is why the
README says to resume only runs you trust.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pandas as pd

from tune.runfolder import storage
from tune.runfolder.layout import ERROR_FILE

STATE_PREFIX = "experiment_state-"


@dataclass(frozen=True)
class TrialFiles:
    """What a run folder says about one trial."""

    trial_id: str
    status: str  # Ray's: PENDING, RUNNING, PAUSED, TERMINATED, ERROR
    config: dict
    path: str  # the trial's folder: a local path, or a URI for runs behind one
    history: pd.DataFrame | None  # one row per reported epoch; None before the first
    error: str | None  # error.txt, when the trial ever failed


def _history(text: str | None) -> pd.DataFrame | None:
    rows = []
    for line in (text or "").splitlines():
        try:
            row = json.loads(line) if line.strip() else None
        except json.JSONDecodeError:
            row = None  # a line Ray was still writing when the driver died
        if isinstance(row, dict):
            rows.append(row)
    return pd.DataFrame(rows) if rows else None


def _plain_trial_fields(entry) -> dict:
    """The JSON-only fields of one trial of the experiment state; the pickled ones are skipped."""
    if not isinstance(entry, list) or len(entry) != 2:
        raise ValueError("unexpected trial entry")
    trial, runtime = json.loads(entry[0]), json.loads(entry[1])
    config = trial.get("_Trial__unresolved_config") or trial.get("config") or {}
    if not isinstance(config, dict) or any(isinstance(v, dict) and "_type" in v for v in config.values()):
        config = {}  # a pickled config: take params.json instead
    return {
        "trial_id": str(trial["trial_id"]),
        "status": str(trial.get("status", "PENDING")),
        "folder": trial.get("relative_logdir"),
        "config": config,
        "failures": int(runtime.get("num_failures", 0) or 0),
    }


def read_trials(run_path: str) -> list[TrialFiles]:
    """Every trial of the run at `run_path` (a folder or URI), from plain files; ValueError if there is no state."""
    root = run_path.rstrip("/")
    names = storage.names_in(
        root
    )  # the state files and trial folders: one listing, not one request per trial
    states = [n for n in names if n.startswith(STATE_PREFIX) and n.endswith(".json")]
    if not states:
        raise ValueError("no experiment state yet")
    state = json.loads(storage.read_text(storage.join(root, states[-1])) or "{}")
    trials = []
    for entry in state.get("trial_data", []):
        fields = _plain_trial_fields(entry)
        folder = storage.join(root, fields["folder"]) if fields["folder"] else None
        history = error = None
        config = fields["config"]
        if folder and fields["folder"] in names:
            history = _history(storage.read_text(storage.join(folder, "result.json")))
            error = storage.read_text(storage.join(folder, ERROR_FILE))
            if not config:
                config = json.loads(storage.read_text(storage.join(folder, "params.json")) or "{}")
        trials.append(
            TrialFiles(
                trial_id=fields["trial_id"],
                status=fields["status"],
                config=config,
                path=folder or "",
                history=history,
                error=error,
            )
        )
    return trials


def failure_count(error_text: str | None) -> int:
    """How often a trial failed: Ray Tune appends "Failure # N" to its error.txt each time."""
    return sum(1 for line in (error_text or "").splitlines() if line.startswith("Failure # "))
