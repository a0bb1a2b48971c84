"""Ctrl-C and SIGTERM during a search: trials stopped, run saved and marked, exit 130 / 143, resumable."""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

import optuna
import pandas as pd
import pytest
from tune_helpers import search_command, small_dataset, start_driver_until, trial_results

from tune.run import main

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    # Long enough epochs for a signal to land mid-trial.
    return small_dataset(tmp_path_factory.mktemp("interrupt"), count=12, frames=400)


def _epochs_done(run: Path) -> int:
    return sum(len(rows) for rows in trial_results(run).values()) if run.is_dir() else 0


def _signal_once_progressing(command, run: Path, log: Path, signum: int, after_epochs: int, group: bool):
    """Starts the driver, sends it `signum` once `after_epochs` epochs are reported in all;
    returns (exit status, output). `group`: to its whole process group, as a terminal's Ctrl-C
    does; else to the driver alone, as `kill PID` does."""
    driver = start_driver_until(command, log, lambda: _epochs_done(run) >= after_epochs)
    if group:
        os.killpg(driver.pid, signum)
    else:
        os.kill(driver.pid, signum)
    code = driver.wait(timeout=120)
    return code, log.read_text()


def _assert_interrupted(run: Path, output: str, code: int, expected_code: int, signame: str, resume: str):
    assert code == expected_code, output[-3000:]
    assert "Traceback" not in output and "*** SIG" not in output and "Stack trace" not in output, output[
        -3000:
    ]
    assert f"best so far of grunet0.6, search interrupted by {signame}" in output
    assert "best configuration of" not in output
    assert f"resume:     {resume}" in output
    summary = json.loads((run / "summary.json").read_text())
    assert summary["interrupted"] == signame and summary["resume"] == resume
    trials = pd.read_parquet(run / "trials.parquet")
    assert (trials["status"] == "unfinished").any()


def test_ctrl_c_and_sigterm_save_the_run_and_it_resumes(dataset, tmp_path):
    name, samples, epochs = "stopped", 4, 6
    storage = tmp_path / "store"
    command = search_command(dataset, storage, name, samples, epochs)
    run = storage / name
    resume = f"python -m tune.run --resume {name} --storage {storage}"

    code, output = _signal_once_progressing(
        command, run, tmp_path / "first.log", signal.SIGINT, 2, group=True
    )
    _assert_interrupted(run, output, code, 130, "SIGINT", resume)
    done_at_sigint = _epochs_done(run)

    resumed = [sys.executable, "-m", "tune.run", "--resume", name, "--storage", str(storage)]
    code, output = _signal_once_progressing(
        resumed, run, tmp_path / "second.log", signal.SIGTERM, done_at_sigint + 2, group=False
    )
    _assert_interrupted(run, output, code, 143, "SIGTERM", resume)

    # Nothing done before the signals is lost: the last resume finishes exactly num_samples trials.
    assert main(["--resume", name, "--storage", str(storage)]) == 0
    trials = pd.read_parquet(run / "trials.parquet")
    assert len(trials) == samples and set(trials["status"]) == {"completed"}
    study = optuna.load_study(study_name=name, storage=f"sqlite:///{run / 'optuna.db'}")
    assert len(study.trials) == samples
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)
    assert all(sorted(t.intermediate_values) == list(range(1, epochs + 1)) for t in study.trials)
    summary = json.loads((run / "summary.json").read_text())
    assert summary["interrupted"] is None and summary["resume"] is None
